//! Consensus parameters of the one chain this node runs: regtest.

use bitcoin::blockdata::constants::genesis_block;
use bitcoin::pow::{CompactTarget, Target};
use bitcoin::{Amount, Block, Network};

/// Consensus parameters of a chain, with the values of Bitcoin Core's regtest.
#[derive(Debug, Clone)]
pub struct ChainParams {
    /// The network these parameters belong to (always [`Network::Regtest`] today).
    pub network: Network,
    /// The genesis block; its hash is Bitcoin Core's regtest genesis hash.
    pub genesis: Block,
    /// The one `bits` value every block must carry (regtest never retargets).
    pub pow_bits: CompactTarget,
    /// The target `pow_bits` encodes.
    pub pow_limit: Target,
    /// Blocks between two halvings of the block subsidy.
    pub subsidy_halving_interval: u32,
    /// Confirmations a coinbase output needs before it may be spent.
    pub coinbase_maturity: u32,
    /// Block subsidy before any halving.
    pub initial_subsidy: Amount,
    /// How far (seconds) a block's time may lie in the future of the local clock.
    pub max_future_block_time: u32,
}

impl ChainParams {
    /// Bitcoin Core's regtest parameters.
    pub fn regtest() -> ChainParams {
        let pow_bits = CompactTarget::from_consensus(0x207f_ffff);
        ChainParams {
            network: Network::Regtest,
            genesis: genesis_block(Network::Regtest),
            pow_bits,
            pow_limit: Target::from_compact(pow_bits),
            subsidy_halving_interval: 150,
            coinbase_maturity: 100,
            initial_subsidy: Amount::from_int_btc(50),
            max_future_block_time: 2 * 60 * 60,
        }
    }

    /// The block subsidy at `height`: 50 BTC, halved every `subsidy_halving_interval` blocks.
    pub fn subsidy(&self, height: u32) -> Amount {
        let halvings = height / self.subsidy_halving_interval.max(1);
        if halvings >= 64 {
            return Amount::ZERO;
        }
        Amount::from_sat(self.initial_subsidy.to_sat() >> halvings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_hash_is_bitcoin_cores_regtest_genesis() {
        let params = ChainParams::regtest();
        assert_eq!(
            params.genesis.block_hash().to_string(),
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        );
    }

    #[test]
    fn pow_limit_is_regtest_limit() {
        let params = ChainParams::regtest();
        assert_eq!(params.pow_limit, Target::MAX_ATTAINABLE_REGTEST);
        assert_eq!(params.genesis.header.bits, params.pow_bits);
    }

    #[test]
    fn subsidy_halves_every_150_blocks() {
        let params = ChainParams::regtest();
        for (height, btc_sat) in [
            (0, 50 * 100_000_000),
            (149, 50 * 100_000_000),
            (150, 25 * 100_000_000),
            (300, 1_250_000_000),
            (150 * 64, 0),
            (u32::MAX, 0),
        ] {
            assert_eq!(params.subsidy(height), Amount::from_sat(btc_sat), "height {height}");
        }
    }
}
