//! The `check` helper shared by the integration tests: one call per case,
//! so the API can change without rewriting the cases.

#![allow(dead_code)]

use std::path::Path;

use config::{Action, Config, Program};

/// Parses `args` for `program` with a fresh temp dir as `$HOME`, after
/// writing `file` (unless empty) to `$HOME/.mpx/node.toml`, and compares the
/// outcome with `expect`:
///
/// - a run: one `field: value` line per field that differs from the
///   program's defaults (so `""` means "all defaults");
/// - `Error: <message>`, `Help` or `Version`.
///
/// In `args`, `file` and `expect`, `$TMP` stands for the temp dir.
pub fn check(program: Program, args: &[&str], file: &str, expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let got = outcome(program, args, file, home);
    let expect = expect.trim();
    assert_eq!(got, expect, "\nprogram: {program:?}\nargs: {args:?}\nfile:\n{file}\n");
}

/// [`check`] with any files: each `(name, text)` is written to `$HOME/.mpx/<name>` (so
/// `bitcoin.conf`, `node.toml`, included files).
pub fn check_files(program: Program, args: &[&str], files: &[(&str, &str)], expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let got = outcome_with(program, args, files, tmp.path());
    assert_eq!(got, expect.trim(), "\nprogram: {program:?}\nargs: {args:?}\nfiles:\n{files:#?}\n");
}

/// What [`check`] compares, for a test that wants to look at it itself.
pub fn outcome(program: Program, args: &[&str], file: &str, home: &Path) -> String {
    let files: &[(&str, &str)] = if file.is_empty() { &[] } else { &[("node.toml", file)] };
    outcome_with(program, args, files, home)
}

fn outcome_with(program: Program, args: &[&str], files: &[(&str, &str)], home: &Path) -> String {
    let tmp = home.display().to_string();
    let defaults = match run(program, &[], home) {
        Ok(config) => fields(&config),
        Err(e) => panic!("defaults do not parse: {e}"),
    };
    for (name, text) in files {
        let path = home.join(".mpx").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text.replace("$TMP", &tmp)).unwrap();
    }
    let args: Vec<String> = args.iter().map(|arg| arg.replace("$TMP", &tmp)).collect();
    let got = match config::parse_with_home(program, &args, Some(home.to_path_buf())) {
        Ok(Action::Run(config)) => fields(&config)
            .into_iter()
            .filter(|field| !defaults.contains(field))
            .map(|(name, value)| format!("{name}: {value}"))
            .collect::<Vec<_>>()
            .join("\n"),
        Ok(Action::Help(_)) => "Help".to_string(),
        Ok(Action::Version) => "Version".to_string(),
        Err(e) => format!("Error: {e}"),
    };
    got.replace(&tmp, "$TMP")
}

/// Parses `args` with `home` as `$HOME`, expecting a run.
pub fn run(program: Program, args: &[&str], home: &Path) -> Result<Config, config::Error> {
    match config::parse_with_home(program, args, Some(home.to_path_buf()))? {
        Action::Run(config) => Ok(*config),
        other => panic!("expected a run, got {other:?}"),
    }
}

/// Every field of `config` but `config_file` (tested on its own), as text.
pub fn fields(config: &Config) -> Vec<(&'static str, String)> {
    vec![
        ("program", format!("{:?}", config.program)),
        ("chain", config.chain.to_string()),
        ("datadir", config.datadir.display().to_string()),
        ("chain_datadir", config.chain_datadir.display().to_string()),
        ("rpc_bind", join(&config.rpc_server.bind)),
        ("rpc_bind_warnings", format!("{:?}", config.rpc_server.bind_warnings)),
        ("rpc_allow", join(&config.rpc_server.allow)),
        (
            "rpc_auth_users",
            format!("{:?}", config.rpc_server.auth_hashes.iter().map(|h| &h.user).collect::<Vec<_>>()),
        ),
        ("rpc_threads", config.rpc_server.threads.to_string()),
        ("rpc_work_queue", config.rpc_server.work_queue.to_string()),
        ("rpc_server_timeout", format!("{:?}", config.rpc_server.server_timeout)),
        ("rpc_connect", config.rpc_connect.to_string()),
        ("rpc_auth", format!("{:?}", config.rpc_auth)),
        ("debug", format!("{:?}", config.debug)),
        ("print_to_console", config.print_to_console.to_string()),
        ("daemon", config.daemon.to_string()),
        (
            "pid_file",
            format!(
                "{:?}",
                config.pid_file.as_ref().map(|f| f.strip_prefix(&config.chain_datadir).unwrap_or(f))
            ),
        ),
        ("reindex", config.reindex.to_string()),
        ("disable_wallet", config.disable_wallet.to_string()),
        ("wallets", format!("{:?}", config.wallets)),
        ("ipc_bind", format!("{:?}", config.ipc_bind)),
        ("ipc_connect", format!("{:?}", config.ipc_connect)),
        ("rpc_wait", config.rpc_wait.to_string()),
        ("rpc_wallet", format!("{:?}", config.rpc_wallet)),
        ("args", format!("{:?}", config.args)),
        (
            "log_file",
            format!(
                "{:?}",
                config.log.file.as_ref().map(|f| f.strip_prefix(&config.chain_datadir).unwrap_or(f))
            ),
        ),
        ("log_level", config.log.level.to_string()),
        ("log_category_levels", format!("{:?}", config.log.category_levels)),
        ("debug_all", config.log.debug_all.to_string()),
        (
            "log_format",
            [
                ("timestamps", config.log.timestamps),
                ("time_micros", config.log.time_micros),
                ("thread_names", config.log.thread_names),
                ("source_locations", config.log.source_locations),
                ("rate_limit", config.log.rate_limit),
            ]
            .iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" "),
        ),
        ("shrink_debug_file", config.log.shrink_debug_file.to_string()),
        ("server", config.server.to_string()),
        ("rpc_doc_check", config.rpc_doc_check.to_string()),
        ("mempool", format!("{:?}", config.mempool)),
        ("wallet_options", format!("{:?}", config.wallet_options)),
        ("notify", format!("{:?}", config.notify)),
        ("p2p", format!("{:?}", config.p2p)),
        ("par", config.par.to_string()),
        ("prevout_fetch_threads", config.prevout_fetch_threads.to_string()),
        ("txindex", config.txindex.to_string()),
        ("ua_comments", format!("{:?}", config.ua_comments)),
        ("warnings", format!("{:?}", config.warnings)),
        ("console_warnings", format!("{:?}", config.console_warnings)),
        ("notes", format!("{:?}", config.notes)),
    ]
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(" ")
}
