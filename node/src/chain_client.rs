//! [`NodeChain`]: the node's implementation of [`interfaces::Chain`], what a wallet uses.

use std::sync::Arc;

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Amount, BlockHash, Transaction, Txid};
use interfaces::{
    BlockRef, Chain, ChainNotifications, Error, FeeEstimate, FoundBlock, FoundBlockRequest, Handler,
    Progress, RpcCommand,
};

use crate::rpc::Dispatcher;
use crate::NodeState;

/// [`interfaces::Chain`] over a [`NodeState`], registering RPC methods with a [`Dispatcher`].
#[derive(Debug, Clone)]
pub struct NodeChain {
    node: Arc<NodeState>,
    dispatcher: Arc<Dispatcher>,
}

impl NodeChain {
    /// A chain client for `dispatcher`'s node.
    pub fn new(dispatcher: Arc<Dispatcher>) -> NodeChain {
        NodeChain { node: dispatcher.node().clone(), dispatcher }
    }
}

impl Chain for NodeChain {
    fn get_height(&self) -> interfaces::Result<Option<u32>> {
        Ok(Some(self.node.lock().chain.height()))
    }

    fn get_tip(&self) -> interfaces::Result<Option<BlockRef>> {
        let inner = self.node.lock();
        Ok(Some(BlockRef { hash: inner.chain.tip().to_byte_array(), height: inner.chain.height() }))
    }

    fn get_block_hash(&self, height: u32) -> interfaces::Result<Option<[u8; 32]>> {
        Ok(self.node.lock().chain.block_hash(height).map(|h| h.to_byte_array()))
    }

    fn find_block(
        &self,
        hash: [u8; 32],
        request: FoundBlockRequest,
    ) -> interfaces::Result<Option<FoundBlock>> {
        let hash = BlockHash::from_byte_array(hash);
        let inner = self.node.lock();
        let chain = &inner.chain;
        let (Some(block), Some(height)) = (chain.block(&hash), chain.block_height(&hash)) else {
            return Ok(None);
        };
        let in_active_chain = chain.is_active(&hash);
        let max_time = chain.block_max_time(&hash).unwrap_or(block.header.time);
        Ok(Some(FoundBlock {
            hash: hash.to_byte_array(),
            height,
            time: i64::from(block.header.time),
            max_time: i64::from(max_time),
            mtp_time: i64::from(chain.median_time_past_of(height)),
            prev_hash: (height > 0).then(|| block.header.prev_blockhash.to_byte_array()),
            in_active_chain,
            next_hash: if in_active_chain {
                chain.block_hash(height.saturating_add(1)).map(|h| h.to_byte_array())
            } else {
                None
            },
            header: request.want_header.then(|| serialize(&block.header)),
            data: request.want_data.then(|| serialize(block)),
        }))
    }

    fn is_in_mempool(&self, txid: [u8; 32]) -> interfaces::Result<bool> {
        Ok(self.node.lock().mempool.contains(&Txid::from_byte_array(txid)))
    }

    fn broadcast_transaction(&self, tx: Vec<u8>, max_tx_fee: i64) -> interfaces::Result<[u8; 32]> {
        let tx: Transaction =
            deserialize(&tx).map_err(|e| Error::invalid_parameter(format!("TX decode failed: {e}")))?;
        let txid = tx.compute_txid();
        if self.node.lock().mempool.contains(&txid) {
            return Ok(txid.to_byte_array());
        }
        let max_fee = u64::try_from(max_tx_fee).ok().filter(|f| *f > 0).map(Amount::from_sat);
        self.node
            .submit_transaction(tx, max_fee)
            .map(|t| t.to_byte_array())
            .map_err(|e| Error::rejected(e.reject_reason()))
    }

    fn estimate_fee(&self, _target_blocks: u32) -> interfaces::Result<Option<FeeEstimate>> {
        Ok(None)
    }

    fn relay_min_fee(&self) -> interfaces::Result<i64> {
        let rate = self.node.lock().mempool.limits().min_relay_fee_per_kvb;
        Ok(i64::try_from(rate).unwrap_or(i64::MAX))
    }

    fn handle_notifications(
        &self,
        notifications: Arc<dyn ChainNotifications>,
    ) -> interfaces::Result<Box<dyn Handler>> {
        Ok(self.node.handle_notifications(notifications))
    }

    fn wait_for_notifications_if_tip_changed(&self, old_tip: [u8; 32]) -> interfaces::Result<()> {
        self.node.wait_for_notified_tip(BlockHash::from_byte_array(old_tip));
        Ok(())
    }

    fn handle_rpc(&self, command: RpcCommand) -> interfaces::Result<Box<dyn Handler>> {
        Ok(self.dispatcher.register(command))
    }

    fn request_mempool_transactions(
        &self,
        notifications: Arc<dyn ChainNotifications>,
    ) -> interfaces::Result<()> {
        let txs: Vec<Vec<u8>> = self.node.lock().mempool.entries().map(|(_, e)| serialize(&e.tx)).collect();
        for tx in txs {
            notifications.transaction_added_to_mempool(tx)?;
        }
        Ok(())
    }

    fn init_message(&self, message: String) -> interfaces::Result<()> {
        self.node.ui().init_message(&message);
        Ok(())
    }

    fn show_progress(&self, title: String, percent: u32, resume_possible: bool) -> interfaces::Result<()> {
        self.node.ui().show_progress(Progress { title, percent, resume_possible });
        Ok(())
    }

    fn shutdown_requested(&self) -> interfaces::Result<bool> {
        Ok(self.node.shutdown_requested())
    }
}
