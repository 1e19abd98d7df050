//! Where the node keeps its blocks and what it may do with them: `-blocksdir`, `-prune`,
//! `-fastprune`, `-reindex-chainstate`, checked with Bitcoin Core's messages where Core has them.

use std::path::{Path, PathBuf};

use clap::ArgMatches;

use crate::config::{flag, value};
use crate::Error;

/// Core's smallest automatic pruning target, MiB.
const MIN_PRUNE_TARGET_MIB: i64 = 550;

/// Block storage settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StorageSettings {
    /// Where the block file lives: `<-blocksdir or datadir>/<chain>/blocks`, absolute.
    pub blocks_dir: PathBuf,
    /// `-reindex-chainstate`: the chain state is rebuilt from the stored blocks (as at every
    /// start here).
    pub reindex_chainstate: bool,
}

/// Reads the options; `datadir` is absolute, `chain` the chain's directory name.
pub(crate) fn storage_settings(
    m: &ArgMatches,
    datadir: &Path,
    chain: &str,
) -> Result<StorageSettings, Error> {
    let base = match value::<PathBuf>(m, "blocksdir") {
        None => datadir.to_path_buf(),
        Some(dir) => {
            // Core takes it relative to the current directory and wants it to exist already.
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            if !dir.is_dir() {
                return Err(Error::Core(format!(
                    "Specified blocks directory \"{}\" does not exist.",
                    dir.display()
                )));
            }
            dir
        }
    };
    match value::<i64>(m, "prune") {
        None | Some(0) => {}
        Some(n) if n < 0 => {
            return Err(Error::Core("Prune cannot be configured with a negative value.".into()))
        }
        Some(n) if n != 1 && n < MIN_PRUNE_TARGET_MIB => {
            return Err(Error::Core(format!(
            "Prune configured below the minimum of {MIN_PRUNE_TARGET_MIB} MiB.  Please use a higher number."
        )))
        }
        Some(n) => {
            return Err(Error::Core(format!(
                "-prune={n} is not supported: this node cannot prune, it keeps every block in its block file \
                 (use -prune=0)"
            )))
        }
    }
    if flag(m, "fastprune") {
        return Err(Error::Core(
            "-fastprune is not supported: this node keeps its blocks in one file and cannot prune".into(),
        ));
    }
    Ok(StorageSettings {
        blocks_dir: base.join(chain).join("blocks"),
        reindex_chainstate: flag(m, "reindex-chainstate"),
    })
}
