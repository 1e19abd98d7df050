//! Who may call: HTTP Basic credentials checked against the cookie or `-rpcuser`/`-rpcpassword`
//! and every `-rpcauth` line, as bitcoind's `RPCAuthorized` does, and the cookie file itself.

use std::io::{Read, Write};
use std::path::Path;

use base64::Engine as _;
use bitcoin::hashes::{hmac, sha256, Hash as _, HashEngine};
use config::{RpcAuthHash, RpcWhitelist};

/// The cookie's user name, as in bitcoind.
pub const COOKIE_USER: &str = "__cookie__";

/// Every credential the server accepts.
pub(crate) struct Credentials {
    /// The cookie's or `-rpcuser`'s user and password.
    plain: Option<(String, String)>,
    /// `-rpcauth` lines.
    hashes: Vec<RpcAuthHash>,
}

impl Credentials {
    pub(crate) fn new(plain: Option<(String, String)>, hashes: Vec<RpcAuthHash>) -> Credentials {
        Credentials { plain, hashes }
    }

    /// The user an `Authorization: Basic <base64(user:password)>` header proves, if any. Every
    /// comparison is constant-time in the secret's content.
    pub(crate) fn check(&self, header: &[u8]) -> Option<String> {
        let encoded = header.strip_prefix(b"Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        let plain_ok = self.plain.as_ref().is_some_and(|(expected_user, expected_password)| {
            constant_time_eq(user.as_bytes(), expected_user.as_bytes())
                & constant_time_eq(password.as_bytes(), expected_password.as_bytes())
        });
        // Try every line, also after a match, so the time taken does not tell which matched.
        let hash_ok = self.hashes.iter().fold(false, |ok, line| ok | matches_rpcauth(line, user, password));
        (plain_ok || hash_ok).then(|| user.to_string())
    }
}

/// bitcoind's `-rpcauth` check: the user matches and HMAC-SHA256(key = salt, password) in hex
/// equals the line's hash.
fn matches_rpcauth(line: &RpcAuthHash, user: &str, password: &str) -> bool {
    let mut engine = hmac::HmacEngine::<sha256::Hash>::new(line.salt.as_bytes());
    engine.input(password.as_bytes());
    let mac = hmac::Hmac::<sha256::Hash>::from_engine(engine);
    let hex: String = mac.as_byte_array().iter().map(|b| format!("{b:02x}")).collect();
    constant_time_eq(user.as_bytes(), line.user.as_bytes())
        & constant_time_eq(hex.as_bytes(), line.hash.as_bytes())
}

/// Compares without an early exit on the first difference (length is not hidden).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes as hex: the cookie's password.
pub(crate) fn random_password() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `__cookie__:<password>` with mode 0600 (through a temporary file and a rename, so a
/// reader never sees a partial cookie).
pub(crate) fn write_cookie(path: &Path, password: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("cookie.tmp");
    {
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        file.write_all(format!("{COOKIE_USER}:{password}").as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// The first method in `body` (one request or a batch) that `-rpcwhitelist` does not let `user`
/// call, if any. Only users the whitelist names are checked here (the others were let through or
/// refused as a whole); a request without a method string is left to the dispatcher's errors.
pub(crate) fn forbidden_method(whitelist: &RpcWhitelist, user: &str, body: &[u8]) -> Option<String> {
    if !whitelist.users.contains_key(user) {
        return None;
    }
    let request: serde_json::Value = serde_json::from_slice(body).ok()?;
    let requests = match &request {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    requests
        .into_iter()
        .filter_map(|r| r.get("method")?.as_str())
        .find(|method| !whitelist.allows(user, method))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> Vec<u8> {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password)).into_bytes()
    }

    #[test]
    fn plain_credentials() {
        let c = Credentials::new(Some(("user".into(), "pass".into())), Vec::new());
        assert_eq!(c.check(&basic("user:pass")).as_deref(), Some("user"));
        assert_eq!(c.check(&basic("user:pasT")), None);
        assert_eq!(c.check(&basic("usr:pass")), None);
        assert_eq!(c.check(b"Basic !!"), None);
        assert_eq!(c.check(b"Bearer dXNlcjpwYXNz"), None);
        assert_eq!(c.check(&basic("nocolon")), None);
    }

    #[test]
    fn rpcauth_lines_as_bitcoind_makes_them() {
        // The hash is HMAC-SHA256(key = salt, message = "secret"), computed independently with
        // Python's hmac module.
        let line: RpcAuthHash = "bob:cb77f0957de88ff388cf817ddbc7273$\
             c9ce7cb2de2ad5aadae1449ad1e62baa38d98fced30a7cd2eae656cab574b678"
            .parse()
            .unwrap();
        let c = Credentials::new(None, vec![line]);
        assert_eq!(c.check(&basic("bob:secret")).as_deref(), Some("bob"));
        assert_eq!(c.check(&basic("bob:Secret")), None);
        assert_eq!(c.check(&basic("alice:secret")), None);
    }
}
