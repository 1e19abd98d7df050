//! Wallet names, where each wallet lives on disk, and the load-on-startup list.
//!
//! Layout under the wallets directory (`<datadir>/regtest/wallets/`), as in Bitcoin Core:
//!
//! ```text
//! wallets/wallet.sqlite        the default wallet, name ""
//! wallets/<name>/wallet.sqlite the wallet <name>
//! wallets/settings.json        {"wallet": ["<name>", ...]}: the wallets loaded at start-up
//! ```
//!
//! A name is one directory component: no `/`, `\`, NUL, no `..` anywhere, not `.`. Anything else
//! (spaces, unicode) is allowed, as in Core.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use interfaces::{Error, Result};

/// The SQLite file of a wallet, inside its directory.
pub(crate) const DB_FILE: &str = "wallet.sqlite";

/// The load-on-startup list, inside the wallets directory.
pub(crate) const SETTINGS_FILE: &str = "settings.json";

/// Checks that `name` is a single, harmless directory component (or `""`, the default wallet).
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let bad = name.contains(['/', '\\', '\0']) || name.contains("..") || name == ".";
    if bad {
        return Err(Error::invalid_parameter(format!(
            "Invalid wallet name \"{name}\": it must not contain path separators or \"..\""
        )));
    }
    Ok(())
}

/// The directory of wallet `name` (the wallets directory itself for the default wallet).
pub(crate) fn wallet_dir(wallets_dir: &Path, name: &str) -> PathBuf {
    if name.is_empty() {
        wallets_dir.to_path_buf()
    } else {
        wallets_dir.join(name)
    }
}

/// The SQLite file of wallet `name`.
pub(crate) fn db_path(wallets_dir: &Path, name: &str) -> PathBuf {
    wallet_dir(wallets_dir, name).join(DB_FILE)
}

/// Names of the wallets on disk, sorted: `""` if the default wallet exists, and every
/// subdirectory with a wallet file whose name is valid.
pub(crate) fn list_wallet_dir(wallets_dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    if db_path(wallets_dir, "").is_file() {
        names.push(String::new());
    }
    let entries = match fs::read_dir(wallets_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(Error::failed(format!("cannot list {}: {e}", wallets_dir.display()))),
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        if validate_name(&name).is_ok() && !name.is_empty() && db_path(wallets_dir, &name).is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The wallets marked load-on-startup, in the order they were added. A missing file is an empty
/// list; a malformed one is an error (it is never overwritten silently).
pub(crate) fn read_startup_list(wallets_dir: &Path) -> Result<Vec<String>> {
    let path = wallets_dir.join(SETTINGS_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::failed(format!("cannot read {}: {e}", path.display()))),
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::failed(format!("{} is not valid JSON: {e}", path.display())))?;
    let list = match value.get("wallet") {
        None => return Ok(Vec::new()),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        Some(serde_json::Value::Array(items)) => {
            items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
        }
        Some(_) => {
            return Err(Error::failed(format!("{}: \"wallet\" must be a list of names", path.display())))
        }
    };
    Ok(list)
}

/// The load-on-startup list of one wallets directory, updated by one writer at a time.
#[derive(Debug)]
pub(crate) struct StartupList {
    wallets_dir: PathBuf,
    /// Held across each read-modify-write of the file, so concurrent updates (a `loadwallet` and
    /// an `unloadwallet` at once) do not lose one another.
    lock: Mutex<()>,
}

impl StartupList {
    /// The list in `wallets_dir/settings.json`.
    pub(crate) fn new(wallets_dir: PathBuf) -> StartupList {
        StartupList { wallets_dir, lock: Mutex::new(()) }
    }

    /// The names on the list (see [`read_startup_list`]).
    pub(crate) fn read(&self) -> Result<Vec<String>> {
        let _guard = crate::wallet::lock(&self.lock);
        read_startup_list(&self.wallets_dir)
    }

    /// Adds `name` to (`load` true) or removes it from the list (see [`update_startup_list`]).
    pub(crate) fn update(&self, name: &str, load: bool) -> Result<()> {
        let _guard = crate::wallet::lock(&self.lock);
        update_startup_list(&self.wallets_dir, name, load)
    }
}

/// Adds `name` to (`load` true) or removes it from the load-on-startup list; other keys of the
/// file are kept. Written to a fresh temporary file, synced, then renamed over the old one (see
/// [`write_atomically`]). Not synchronised: callers go through [`StartupList::update`].
fn update_startup_list(wallets_dir: &Path, name: &str, load: bool) -> Result<()> {
    let path = wallets_dir.join(SETTINGS_FILE);
    let mut doc = match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str::<serde_json::Value>(&text)
            .map_err(|e| Error::failed(format!("{} is not valid JSON: {e}", path.display())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(Error::failed(format!("cannot read {}: {e}", path.display()))),
    };
    let mut list = read_startup_list(wallets_dir)?;
    list.retain(|n| n != name);
    if load {
        list.push(name.to_string());
    }
    let Some(obj) = doc.as_object_mut() else {
        return Err(Error::failed(format!("{} must hold a JSON object", path.display())));
    };
    obj.insert("wallet".into(), serde_json::json!(list));
    let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::failed(e.to_string()))?;
    write_atomically(&path, text.as_bytes())
        .map_err(|e| Error::failed(format!("cannot write {}: {e}", path.display())))
}

/// A temporary name next to `path` that no other writer uses: `.<file>.<pid>.<n>.tmp` in the
/// same directory (so the rename stays on one filesystem).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{file}.{}.{n}.tmp", std::process::id()))
}

/// Fsyncs directory `dir`, making a rename or creation in it durable (ignored where the
/// filesystem does not allow syncing a directory).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Replaces `path` with `bytes` and a newline, all or nothing, durably: written to a fresh
/// temporary file (`create_new`, a name no other writer uses), fsynced, renamed over `path`, and
/// the directory fsynced.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, ok: bool) {
        assert_eq!(validate_name(name).is_ok(), ok, "{name:?}");
    }

    #[test]
    fn wallet_names() {
        check("", true);
        check("w1", true);
        check("my wallet", true);
        check("ünïcode", true);
        check(".hidden", true);
        check("a/b", false);
        check("/abs", false);
        check("a\\b", false);
        check("..", false);
        check("a..b", false);
        check(".", false);
        check("nul\0", false);
        let e = validate_name("../x").unwrap_err();
        assert_eq!(e.kind(), interfaces::ErrorKind::InvalidParameter);
    }

    #[test]
    fn paths_and_listing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(wallet_dir(root, ""), root);
        assert_eq!(db_path(root, "w"), root.join("w").join(DB_FILE));
        assert_eq!(list_wallet_dir(&root.join("missing")).unwrap(), Vec::<String>::new());
        fs::create_dir_all(root.join("b")).unwrap();
        fs::write(db_path(root, "b"), b"").unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(db_path(root, "a"), b"").unwrap();
        fs::create_dir_all(root.join("empty")).unwrap();
        assert_eq!(list_wallet_dir(root).unwrap(), ["a", "b"]);
        fs::write(db_path(root, ""), b"").unwrap();
        assert_eq!(list_wallet_dir(root).unwrap(), ["", "a", "b"]);
    }

    #[test]
    fn startup_list_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(read_startup_list(root).unwrap().is_empty());
        let list = StartupList::new(root.to_path_buf());
        list.update("a", true).unwrap();
        list.update("b", true).unwrap();
        list.update("a", true).unwrap();
        assert_eq!(read_startup_list(root).unwrap(), ["b", "a"]);
        list.update("b", false).unwrap();
        assert_eq!(read_startup_list(root).unwrap(), ["a"]);
        fs::write(root.join(SETTINGS_FILE), "{\"other\": 1, \"wallet\": \"x\"}").unwrap();
        assert_eq!(read_startup_list(root).unwrap(), ["x"]);
        list.update("y", true).unwrap();
        let text = fs::read_to_string(root.join(SETTINGS_FILE)).unwrap();
        assert!(text.contains("\"other\": 1"), "{text}");
        fs::write(root.join(SETTINGS_FILE), "not json").unwrap();
        assert!(read_startup_list(root).is_err());
    }

    #[test]
    fn concurrent_updates_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let list = StartupList::new(dir.path().to_path_buf());
        let names: Vec<String> = (0..8).map(|i| format!("w{i}")).collect();
        std::thread::scope(|scope| {
            for name in &names {
                let list = &list;
                scope.spawn(move || {
                    for _ in 0..25 {
                        list.update(name, false).unwrap();
                        list.update(name, true).unwrap();
                    }
                });
            }
        });
        let mut listed = list.read().unwrap();
        listed.sort();
        assert_eq!(listed, names);
        let files: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(files, [SETTINGS_FILE], "no temporary file is left behind");
    }
}
