//! Options that exist for tests: `-mocktime`.

use super::{int_parser, value, OptionDef, DEBUG, NODE};

/// This group's options.
pub(super) static OPTIONS: &[OptionDef] = &[value(
    "mocktime",
    "n",
    "Replace actual time with UNIX epoch time <n> (0: the real clock), as the setmocktime RPC does",
    "0",
    NODE,
    false,
    DEBUG,
    int_parser,
)];
