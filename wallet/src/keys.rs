//! Keys: a fresh BIP84 (P2WPKH) descriptor pair from a random seed, and the signers that sign
//! with the private descriptors the wallet file keeps (BDK stores only the public ones).

use bdk_wallet::descriptor::IntoWalletDescriptor;
use bdk_wallet::signer::SignersContainer;
use bdk_wallet::KeychainKind;
use bitcoin::bip32::Xpriv;
use bitcoin::secp256k1::rand::RngCore;
use bitcoin::secp256k1::{All, Secp256k1};
use bitcoin::{Network, NetworkKind};
use interfaces::{Error, Result};

use crate::store::PrivateDescriptors;

/// `wpkh(<master xprv>/84'/<coin>'/0'/0/*)` and `.../1/*` (change) from a fresh random seed.
/// The coin type is 0 on mainnet and 1 elsewhere (BIP44).
pub(crate) fn new_descriptors(network: Network) -> Result<PrivateDescriptors> {
    let mut seed = [0u8; 32];
    bitcoin::secp256k1::rand::thread_rng().fill_bytes(&mut seed);
    let master = Xpriv::new_master(network, &seed).map_err(|e| Error::failed(format!("new key: {e}")))?;
    let coin = if network == Network::Bitcoin { 0 } else { 1 };
    Ok(PrivateDescriptors {
        external: format!("wpkh({master}/84'/{coin}'/0'/0/*)"),
        internal: format!("wpkh({master}/84'/{coin}'/0'/1/*)"),
    })
}

/// Two descriptors no one can spend from or will pay to: `wpkh(<key>)` of two fresh random keys
/// that are thrown away. The keychains of a wallet without descriptors of its own, which BDK needs
/// to hold the wallet's imports (see [`crate::imports`]); they never count as the wallet's.
pub(crate) fn placeholder_descriptors() -> Result<PrivateDescriptors> {
    let secp = Secp256k1::signing_only();
    let one = || -> Result<String> {
        let mut secret = [0u8; 32];
        bitcoin::secp256k1::rand::thread_rng().fill_bytes(&mut secret);
        let key = bitcoin::secp256k1::SecretKey::from_slice(&secret)
            .map_err(|e| Error::failed(format!("new key: {e}")))?;
        Ok(format!("wpkh({})", bitcoin::PublicKey::new(key.public_key(&secp))))
    };
    Ok(PrivateDescriptors { external: one()?, internal: one()? })
}

/// The signers of both keychains, built from the private descriptors, for
/// [`bdk_wallet::Wallet::sign_with_signers`].
pub(crate) struct Signers {
    pub(crate) external: SignersContainer,
    pub(crate) internal: SignersContainer,
}

impl std::fmt::Debug for Signers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signers(..)")
    }
}

impl Signers {
    /// Parses `descriptors` and builds a signer container for each keychain of `wallet`.
    pub(crate) fn new(
        descriptors: &PrivateDescriptors,
        wallet: &bdk_wallet::Wallet,
        network: Network,
    ) -> Result<Signers> {
        let secp: Secp256k1<All> = Secp256k1::new();
        let kind = NetworkKind::from(network);
        let build = |text: &str, keychain: KeychainKind| -> Result<SignersContainer> {
            let (_, keymap) = text
                .into_wallet_descriptor(&secp, kind)
                .map_err(|e| Error::failed(format!("stored private descriptor: {e}")))?;
            Ok(SignersContainer::build(keymap, wallet.public_descriptor(keychain), wallet.secp_ctx()))
        };
        Ok(Signers {
            external: build(&descriptors.external, KeychainKind::External)?,
            internal: build(&descriptors.internal, KeychainKind::Internal)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_descriptors_differ_and_parse() {
        let a = new_descriptors(Network::Regtest).unwrap();
        let b = new_descriptors(Network::Regtest).unwrap();
        assert_ne!(a, b);
        assert!(a.external.starts_with("wpkh(tprv") && a.external.ends_with("/84'/1'/0'/0/*)"));
        assert!(a.internal.ends_with("/84'/1'/0'/1/*)"));
        let wallet = bdk_wallet::Wallet::create(a.external.clone(), a.internal.clone())
            .network(Network::Regtest)
            .create_wallet_no_persist()
            .unwrap();
        let signers = Signers::new(&a, &wallet, Network::Regtest).unwrap();
        assert_eq!(signers.external.signers().len(), 1);
        assert_eq!(signers.internal.signers().len(), 1);
        // The public descriptor BDK keeps carries no secret.
        assert!(!wallet.public_descriptor(KeychainKind::External).to_string().contains("tprv"));
    }
}
