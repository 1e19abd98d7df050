//! Where blocks live and what may happen to them: `-blocksdir`, `-prune`, `-fastprune`,
//! `-reindex-chainstate`.

use clap::builder::ValueParser;

use super::{flag, int_parser, value, OptionDef, GENERAL, NODE};
use crate::values::{self, setting};

/// This group's options.
pub(super) static OPTIONS: &[OptionDef] = &[
    value(
        "blocksdir",
        "dir",
        "Specify directory to hold blocks subdirectory for *.dat files (it must exist; the blocks are \
         in <dir>/regtest/blocks, relative to the current directory unless absolute)",
        "<datadir>",
        NODE,
        false,
        GENERAL,
        || ValueParser::new(setting(values::parse_path)),
    ),
    value(
        "prune",
        "n",
        "Reduce storage requirements by pruning old blocks: this node cannot prune (it keeps every \
         block), so only 0 (no pruning) is accepted; Core's bounds are checked first",
        "0",
        NODE,
        true,
        GENERAL,
        int_parser,
    ),
    flag(
        "fastprune",
        "Use smaller block files and lower minimum prune height for testing purposes: not supported \
         (one block file, no pruning), only -fastprune=0 is accepted",
        NODE,
        true,
        GENERAL,
    ),
    flag(
        "reindex-chainstate",
        "Rebuild the chain state from the currently stored blocks: this node does so at every start \
         (every stored block is validated again), so this only says it",
        NODE,
        true,
        GENERAL,
    ),
];
