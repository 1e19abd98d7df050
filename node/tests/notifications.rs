//! Notification delivery survives its subscribers: a panicking one does not stop the others or
//! stall the notified height, and a subscriber may wait for notifications from inside one.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitcoin::hashes::Hash;
use bitcoin::{BlockHash, ScriptBuf};
use interfaces::{BlockInfo, ChainNotifications, MempoolRemovalReason};
use node::NodeState;

#[derive(Default)]
struct Counting {
    connected: AtomicU32,
    panic: bool,
    /// Calls back into the node from inside the notification.
    reenter: Mutex<Option<Arc<NodeState>>>,
}

impl ChainNotifications for Counting {
    fn transaction_added_to_mempool(&self, _tx: Vec<u8>) -> interfaces::Result<()> {
        Ok(())
    }
    fn transaction_removed_from_mempool(
        &self,
        _: [u8; 32],
        _: MempoolRemovalReason,
    ) -> interfaces::Result<()> {
        Ok(())
    }
    fn block_connected(&self, block: BlockInfo) -> interfaces::Result<()> {
        self.connected.fetch_add(1, Ordering::SeqCst);
        assert!(!self.panic, "subscriber bug at height {}", block.height);
        if let Some(node) = self.reenter.lock().unwrap().as_ref() {
            // The tip moved past the genesis hash, so outside a notification this would wait
            // for the delivery this very call is part of.
            node.wait_for_notified_tip(BlockHash::all_zeros());
        }
        Ok(())
    }
    fn block_disconnected(&self, _block: BlockInfo) -> interfaces::Result<()> {
        Ok(())
    }
    fn updated_block_tip(&self) -> interfaces::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panicking_subscriber_does_not_stop_delivery() {
    let node = Arc::new(NodeState::new(common::chain()));
    let broken = Arc::new(Counting { panic: true, ..Default::default() });
    let healthy = Arc::new(Counting::default());
    let _h1 = node.handle_notifications(broken.clone());
    let _h2 = node.handle_notifications(healthy.clone());
    let genesis = node.lock().chain.tip();

    node.generate(&ScriptBuf::new_op_return([]), 3).unwrap();
    assert_eq!(broken.connected.load(Ordering::SeqCst), 3);
    assert_eq!(healthy.connected.load(Ordering::SeqCst), 3);
    let started = Instant::now();
    node.wait_for_notified_tip(genesis);
    assert!(started.elapsed() < Duration::from_secs(5), "the notified height was left behind");
}

#[test]
fn a_subscriber_may_wait_for_notifications_from_inside_one() {
    let node = Arc::new(NodeState::new(common::chain()));
    let reentrant = Arc::new(Counting::default());
    *reentrant.reenter.lock().unwrap() = Some(node.clone());
    let _handler = node.handle_notifications(reentrant.clone());
    let started = Instant::now();
    node.generate(&ScriptBuf::new_op_return([]), 2).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "waited for itself");
    assert_eq!(reentrant.connected.load(Ordering::SeqCst), 2);
    // The cycle node -> subscriber -> node is broken when the test ends.
    reentrant.reenter.lock().unwrap().take();
}
