//! [`TestFramework`]: the nodes of one scenario under one temporary directory, and what happens
//! to them when the scenario ends.

use std::path::{Path, PathBuf};

use crate::node::TestNode;

/// Lines of each `debug.log` printed when a test fails.
const LOG_TAIL_LINES: usize = 40;

/// The nodes of one test, each with a data directory `<root>/node<i>`.
#[derive(Debug)]
pub struct TestFramework {
    name: String,
    root: Option<tempfile::TempDir>,
    /// The nodes, in creation order.
    pub nodes: Vec<TestNode>,
}

impl TestFramework {
    /// `count` nodes, not started, for the test `name` (used in the directory name).
    pub fn new(name: &str, count: usize) -> TestFramework {
        let root = tempfile::Builder::new()
            .prefix(&format!("mpx-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let nodes = (0..count).map(|i| TestNode::new(i, root.path().join(format!("node{i}")))).collect();
        TestFramework { name: name.to_string(), root: Some(root), nodes }
    }

    /// Starts every node with no extra options.
    pub fn start_all(&mut self) {
        for node in &mut self.nodes {
            node.start(&[]);
        }
    }

    /// The directory holding every node's datadir.
    pub fn root(&self) -> &Path {
        self.root.as_ref().map_or(Path::new(""), |r| r.path())
    }

    /// A path under the root for files a test makes itself.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }
}

impl Drop for TestFramework {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        if !std::thread::panicking() {
            return;
        }
        // The test failed: keep everything and point at it.
        if let Some(root) = self.root.take() {
            let kept = root.keep();
            eprintln!("test {} failed; its data directories are kept in {}", self.name, kept.display());
        }
        for node in &self.nodes {
            let log = node.debug_log();
            let tail: Vec<&str> = log.lines().rev().take(LOG_TAIL_LINES).collect();
            eprintln!("--- node{} debug.log (last {} lines) ---", node.index, tail.len());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}
