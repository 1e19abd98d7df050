//! Mempool and wallet policy options and `-alertnotify`.

use super::{
    any_parser, flag, flag_on, int_parser, value, OptionDef, GENERAL, NODE, NODE_AND_WALLET, RELAY, WALLET,
};

/// This group's options.
pub(super) static OPTIONS: &[OptionDef] = &[
    value(
        "alertnotify",
        "cmd",
        "Execute command when an alert is raised (%s in cmd is replaced by message); this node raises \
         none of the alerts Core raises (it keeps no invalid side chains and does not track unknown \
         version bits), which the start-up log says",
        "none",
        NODE,
        true,
        GENERAL,
        any_parser,
    ),
    flag_on(
        "permitbaremultisig",
        "Relay transactions creating non-P2SH multisig outputs; -permitbaremultisig=0 makes the mempool \
         refuse them (bare-multisig)",
        NODE,
        RELAY,
    ),
    value(
        "limitclustercount",
        "n",
        "Do not accept transactions into mempool which are directly or indirectly connected to <n> or \
         more other unconfirmed transactions (1 to 64)",
        "64",
        NODE,
        false,
        RELAY,
        int_parser,
    ),
    value(
        "limitclustersize",
        "n",
        "Do not accept transactions whose virtual size with all in-mempool connected transactions \
         exceeds <n> kilovirtualbytes",
        "101",
        NODE,
        false,
        RELAY,
        int_parser,
    ),
    value(
        "limitancestorcount",
        "n",
        "Used by the wallet's -walletrejectlongchains in Core (not by its mempool); accepted and \
         checked, not applied here",
        "25",
        NODE,
        false,
        RELAY,
        int_parser,
    ),
    value(
        "limitdescendantcount",
        "n",
        "Used by the wallet's -walletrejectlongchains in Core (not by its mempool); accepted and \
         checked, not applied here",
        "25",
        NODE,
        false,
        RELAY,
        int_parser,
    ),
    flag(
        "walletrejectlongchains",
        "Wallet will not create transactions that violate mempool chain limits: not supported (the \
         wallet does not check them), only 0 is accepted",
        NODE_AND_WALLET,
        true,
        WALLET,
    ),
    value(
        "addresstype",
        "type",
        "What type of addresses to use (\"legacy\", \"p2sh-segwit\", \"bech32\", or \"bech32m\"): the \
         wallet makes BIP84 bech32 addresses only, so only bech32 is accepted",
        "bech32",
        NODE_AND_WALLET,
        false,
        WALLET,
        any_parser,
    ),
    value(
        "changetype",
        "type",
        "What type of change to use (\"legacy\", \"p2sh-segwit\", \"bech32\", or \"bech32m\"): the \
         wallet's change is BIP84 bech32, so only bech32 is accepted",
        "bech32",
        NODE_AND_WALLET,
        false,
        WALLET,
        any_parser,
    ),
];
