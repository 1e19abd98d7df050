//! `createwallet`, `loadwallet`, `unloadwallet`, `listwallets`, `listwalletdir`.

use interfaces::{CreateWalletOptions, ErrorKind, RpcError};
use serde_json::{json, Map, Value};

use super::params::{invalid, type_error};
use super::{rpc_error, Call, CallResult, Failure, Method};

fn wallet_error(message: impl Into<String>) -> Failure {
    Failure::Rpc(RpcError::new(RpcError::WALLET_ERROR, message))
}

/// `{"name": .., "warnings": [..]}` (warnings only when there are some, as Core).
fn named(name: &str, warnings: Vec<String>) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), json!(name));
    if !warnings.is_empty() {
        obj.insert("warnings".into(), json!(warnings));
    }
    Value::Object(obj)
}

pub(crate) const CREATEWALLET: Method = Method {
    name: "createwallet",
    args: &[
        "wallet_name",
        "disable_private_keys",
        "blank",
        "passphrase",
        "avoid_reuse",
        "descriptors",
        "load_on_startup",
        "external_signer",
    ],
    required: 1,
    wallet: false,
    help: "Creates and loads a new descriptor wallet (BIP84 P2WPKH keys from a fresh random seed).\n\
           disable_private_keys or blank: a wallet without descriptors. Encryption, avoid_reuse,\n\
           legacy wallets and external signers are not supported.\n\
           Result: {\"name\": str, \"warnings\": [str] (only if any)}",
    run: createwallet,
};

fn createwallet(call: &Call<'_>) -> CallResult {
    let p = &call.params;
    let name = p.str(0)?.unwrap_or_default().to_string();
    if name.is_empty() {
        // Core: the unnamed default wallet can be loaded, not created by RPC.
        return Err(Failure::Rpc(RpcError::new(RpcError::INVALID_PARAMETER, "Wallet name cannot be empty")));
    }
    let disable_private_keys = p.bool(1)?.unwrap_or(false);
    let blank = p.bool(2)?.unwrap_or(false);
    let mut warnings = Vec::new();
    match p.str(3)? {
        Some(phrase) if !phrase.is_empty() && disable_private_keys => {
            return Err(wallet_error(
                "Passphrase provided but private keys are disabled. A passphrase is only used to encrypt \
                 private keys, so cannot be used for wallets with private keys disabled.",
            ))
        }
        Some("") => {
            warnings.push("Empty string given as passphrase, wallet will not be encrypted.".to_string())
        }
        Some(_) => return Err(wallet_error("Error: wallet encryption is not supported by this wallet")),
        None => {}
    }
    if p.bool(4)?.unwrap_or(false) {
        return Err(wallet_error("Error: the avoid_reuse flag is not supported by this wallet"));
    }
    if !p.bool(5)?.unwrap_or(true) {
        return Err(wallet_error(
            "descriptors argument must be set to \"true\"; it is no longer possible to create a legacy wallet.",
        ));
    }
    let load_on_startup = p.bool(6)?;
    if p.bool(7)?.unwrap_or(false) {
        return Err(wallet_error(
            "Compiled without external signing support (required for external signing)",
        ));
    }
    let options = CreateWalletOptions { disable_private_keys, blank, load_on_startup };
    match call.loader.create(&name, options) {
        Ok(_) => Ok(named(&name, warnings)),
        // Core answers createwallet's failures, an existing wallet included, with -4.
        Err(e) => Err(wallet_error(e.message())),
    }
}

pub(crate) const LOADWALLET: Method = Method {
    name: "loadwallet",
    args: &["filename", "load_on_startup"],
    required: 1,
    wallet: false,
    help: "Loads a wallet from the wallets directory and catches it up with the chain.\n\
           Result: {\"name\": str, \"warnings\": [str] (only if any)}",
    run: loadwallet,
};

fn loadwallet(call: &Call<'_>) -> CallResult {
    let name = call.params.str(0)?.unwrap_or_default().to_string();
    let load_on_startup = call.params.bool(1)?;
    if call.loader.get(&name).is_some() {
        return Err(Failure::Rpc(RpcError::new(
            RpcError::WALLET_ALREADY_LOADED,
            format!("Wallet \"{name}\" is already loaded."),
        )));
    }
    match call.loader.load(&name, load_on_startup) {
        Ok(_) => Ok(named(&name, Vec::new())),
        Err(e) => Err(Failure::Rpc(match e.kind() {
            ErrorKind::NotFound => RpcError::new(RpcError::WALLET_NOT_FOUND, e.message()),
            ErrorKind::AlreadyExists => RpcError::new(RpcError::WALLET_ALREADY_LOADED, e.message()),
            _ => RpcError::new(RpcError::WALLET_ERROR, e.message()),
        })),
    }
}

pub(crate) const UNLOADWALLET: Method = Method {
    name: "unloadwallet",
    args: &["wallet_name", "load_on_startup"],
    required: 0,
    wallet: false,
    help: "Unloads the wallet named by the RPC endpoint (/wallet/<name>) or by wallet_name.\n\
           Result: {}",
    run: unloadwallet,
};

fn unloadwallet(call: &Call<'_>) -> CallResult {
    let param = call.params.str(0)?;
    let name = match (&call.uri_wallet, param) {
        (Some(uri), Some(param)) if uri != param => {
            return Err(
                invalid("RPC endpoint wallet and wallet_name parameter specify different wallets").into()
            )
        }
        (Some(uri), _) => uri.clone(),
        (None, Some(param)) => param.to_string(),
        // Core reads the missing parameter as a string: a type error.
        (None, None) => return Err(type_error(&Value::Null, "string").into()),
    };
    let load_on_startup = call.params.bool(1)?;
    if call.loader.get(&name).is_none() {
        return Err(if call.last_handler { Failure::Rpc(super::not_found()) } else { Failure::NotMine });
    }
    call.loader.unload(&name, load_on_startup).map_err(|e| Failure::Rpc(rpc_error(&e)))?;
    Ok(json!({}))
}

pub(crate) const LISTWALLETS: Method = Method {
    name: "listwallets",
    args: &[],
    required: 0,
    wallet: false,
    help: "Returns the names of the loaded wallets, in load order.\nResult: [str, ...]",
    run: listwallets,
};

fn listwallets(call: &Call<'_>) -> CallResult {
    Ok(json!(call.loader.loaded().iter().map(|w| w.name.clone()).collect::<Vec<_>>()))
}

pub(crate) const LISTWALLETDIR: Method = Method {
    name: "listwalletdir",
    args: &[],
    required: 0,
    wallet: false,
    help: "Returns the wallets in the wallets directory, loaded or not.\n\
           Result: {\"wallets\": [{\"name\": str}, ...]}",
    run: listwalletdir,
};

fn listwalletdir(call: &Call<'_>) -> CallResult {
    let names = crate::names::list_wallet_dir(&call.loader.settings.wallets_dir)?;
    // Core lists each with its (here always empty) warnings.
    let wallets: Vec<Value> = names.iter().map(|n| json!({"name": n, "warnings": []})).collect();
    Ok(json!({ "wallets": wallets }))
}

pub(crate) const BACKUPWALLET: Method = Method {
    name: "backupwallet",
    args: &["destination"],
    required: 1,
    wallet: true,
    help: "Safely copies the current wallet file to destination (a file, or a directory to hold a\n\
           copy named after the wallet). Result: null.",
    run: backupwallet,
};

fn backupwallet(call: &Call<'_>) -> CallResult {
    let wallet = call.wallet()?;
    let given = std::path::PathBuf::from(call.params.str(0)?.unwrap_or(""));
    // A directory gets a file named after the wallet, as bitcoind does.
    let destination = if given.is_dir() {
        given.join(if wallet.name.is_empty() { "wallet.dat" } else { wallet.name.as_str() })
    } else {
        given
    };
    wallet
        .with_state(|s| {
            s.persist()?;
            s.store.backup_to(&destination).map_err(|e| interfaces::Error::failed(e.to_string()))
        })
        .map_err(|e| {
            tracing::warn!(target: "wallet", wallet = %wallet.name, error = %e, "backup failed");
            Failure::Rpc(RpcError::new(RpcError::WALLET_ERROR, "Error: Wallet backup failed!"))
        })?;
    Ok(serde_json::Value::Null)
}
