//! Mempool and wallet policy options, checked with Bitcoin Core's bounds and messages:
//! `-permitbaremultisig`, the cluster limits, `-limitancestorcount`/`-limitdescendantcount`,
//! `-walletrejectlongchains`, `-addresstype`, `-changetype`.

use clap::ArgMatches;

use crate::config::{flag, flag_or, value};
use crate::Error;

/// Core's largest (and default) cluster count.
pub const MAX_CLUSTER_COUNT: u64 = 64;
/// Core's default cluster size limit, kvB.
pub const DEFAULT_CLUSTER_SIZE_KVB: u64 = 101;

/// The mempool's policy settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MempoolPolicy {
    /// `-permitbaremultisig` (default on): whether outputs may be bare multisig scripts.
    pub permit_bare_multisig: bool,
    /// `-limitclustercount` (1-64, default 64): most transactions in one cluster.
    pub cluster_count: u64,
    /// `-limitclustersize`, in virtual bytes (default 101 kvB).
    pub cluster_size_vbytes: u64,
    /// `-limitancestorcount` (default 25; Core's wallet reads it, not its mempool).
    pub ancestor_count: u64,
    /// `-limitdescendantcount` (default 25; likewise).
    pub descendant_count: u64,
}

impl Default for MempoolPolicy {
    fn default() -> Self {
        MempoolPolicy {
            permit_bare_multisig: true,
            cluster_count: MAX_CLUSTER_COUNT,
            cluster_size_vbytes: DEFAULT_CLUSTER_SIZE_KVB * 1000,
            ancestor_count: 25,
            descendant_count: 25,
        }
    }
}

fn non_negative(m: &ArgMatches, name: &str, default: u64) -> Result<u64, Error> {
    match value::<i64>(m, name) {
        None => Ok(default),
        Some(n) if n < 0 => Err(Error::invalid(name, &n.to_string(), "must not be negative")),
        Some(n) => Ok(n.unsigned_abs()),
    }
}

pub(crate) fn mempool_policy(m: &ArgMatches) -> Result<MempoolPolicy, Error> {
    let defaults = MempoolPolicy::default();
    // Core clamps the count into 1..=64.
    let cluster_count = value::<i64>(m, "limitclustercount")
        .map_or(defaults.cluster_count, |n| n.clamp(1, 64).unsigned_abs());
    Ok(MempoolPolicy {
        permit_bare_multisig: flag_or(m, "permitbaremultisig", true),
        cluster_count,
        cluster_size_vbytes: non_negative(m, "limitclustersize", DEFAULT_CLUSTER_SIZE_KVB)?
            .saturating_mul(1000),
        ancestor_count: non_negative(m, "limitancestorcount", defaults.ancestor_count)?,
        descendant_count: non_negative(m, "limitdescendantcount", defaults.descendant_count)?,
    })
}

/// Core's address types.
const ADDRESS_TYPES: [&str; 4] = ["legacy", "p2sh-segwit", "bech32", "bech32m"];

/// Checks the wallet policy options: Core's errors for values Core refuses, then ours for the
/// values this wallet cannot honour (it makes BIP84 bech32 addresses and change only, and does
/// not check mempool chain limits).
pub(crate) fn check_wallet_policy(m: &ArgMatches) -> Result<(), Error> {
    for (option, what) in [("addresstype", "address"), ("changetype", "change")] {
        let Some(kind) = value::<String>(m, option) else { continue };
        // Core's -changetype may be empty (it then follows the address type).
        if option == "changetype" && kind.is_empty() {
            continue;
        }
        if !ADDRESS_TYPES.contains(&kind.as_str()) {
            return Err(Error::Core(format!("Unknown {what} type '{kind}'")));
        }
        if kind != "bech32" {
            return Err(Error::Core(format!(
                "-{option}={kind} is not supported: this wallet makes BIP84 bech32 {} only",
                if what == "address" { "addresses" } else { "change" }
            )));
        }
    }
    if flag(m, "walletrejectlongchains") {
        return Err(Error::Core(
            "-walletrejectlongchains is not supported: this wallet does not check mempool chain limits"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_are_cores() {
        let policy = super::MempoolPolicy::default();
        assert_eq!((policy.cluster_count, policy.cluster_size_vbytes), (64, 101_000));
        assert!(policy.permit_bare_multisig);
    }
}
