//! Hand-written conversions between the `interfaces` enums and the schema
//! enums (the generator converts enums only to and from themselves).

use framework::convert::{FromScalar, ToScalar};
use interfaces::{ChangeType, MempoolRemovalReason};

use crate::chain_capnp::MempoolRemovalReason as WireReason;
use crate::wallet_capnp::ChangeType as WireChange;

impl ToScalar<WireReason> for MempoolRemovalReason {
    fn to_scalar(self) -> framework::Result<WireReason> {
        Ok(match self {
            MempoolRemovalReason::Expiry => WireReason::Expiry,
            MempoolRemovalReason::SizeLimit => WireReason::SizeLimit,
            MempoolRemovalReason::Reorg => WireReason::Reorg,
            MempoolRemovalReason::Block => WireReason::Block,
            MempoolRemovalReason::Conflict => WireReason::Conflict,
            MempoolRemovalReason::Replaced => WireReason::Replaced,
        })
    }
}

impl FromScalar<WireReason> for MempoolRemovalReason {
    fn from_scalar(wire: WireReason) -> framework::Result<Self> {
        Ok(match wire {
            WireReason::Expiry => MempoolRemovalReason::Expiry,
            WireReason::SizeLimit => MempoolRemovalReason::SizeLimit,
            WireReason::Reorg => MempoolRemovalReason::Reorg,
            WireReason::Block => MempoolRemovalReason::Block,
            WireReason::Conflict => MempoolRemovalReason::Conflict,
            WireReason::Replaced => MempoolRemovalReason::Replaced,
        })
    }
}

impl ToScalar<WireChange> for ChangeType {
    fn to_scalar(self) -> framework::Result<WireChange> {
        Ok(match self {
            ChangeType::New => WireChange::New,
            ChangeType::Updated => WireChange::Updated,
            ChangeType::Deleted => WireChange::Deleted,
        })
    }
}

impl FromScalar<WireChange> for ChangeType {
    fn from_scalar(wire: WireChange) -> framework::Result<Self> {
        Ok(match wire {
            WireChange::New => ChangeType::New,
            WireChange::Updated => ChangeType::Updated,
            WireChange::Deleted => ChangeType::Deleted,
        })
    }
}
