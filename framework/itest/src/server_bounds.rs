//! What the framework asks of a server implementation, shown by doctests
//! that must not compile (the generated adapters meet these bounds; a
//! hand-written one must too).
//!
//! A served object is reached from whichever thread drives the event loop
//! and from the threads running its calls, so
//! [`ServerAdapter::Object`](framework::private::ServerAdapter::Object)
//! must be `Send + Sync`. An adapter serving a thread-bound value does not
//! compile:
//!
//! ```compile_fail,E0277
//! use std::rc::Rc;
//! use framework::private::{ServerAdapter, ServerBase};
//! use framework_itest::foo_capnp::foo_callback;
//!
//! struct RcServer(ServerBase, Rc<u32>);
//! impl foo_callback::Server for RcServer {}
//! impl ServerAdapter for RcServer {
//!     type Client = foo_callback::Client;
//!     type Object = Rc<u32>;
//!     fn new_server(base: ServerBase, object: Rc<u32>) -> Self {
//!         Self(base, object)
//!     }
//!     fn object(&self) -> Option<Rc<u32>> {
//!         Some(self.1.clone())
//!     }
//! }
//! ```
//!
//! while the same adapter serving an `Arc` does:
//!
//! ```
//! use std::sync::Arc;
//! use framework::private::{ServerAdapter, ServerBase};
//! use framework_itest::foo_capnp::foo_callback;
//!
//! struct ArcServer(ServerBase, Arc<u32>);
//! impl foo_callback::Server for ArcServer {}
//! impl ServerAdapter for ArcServer {
//!     type Client = foo_callback::Client;
//!     type Object = Arc<u32>;
//!     fn new_server(base: ServerBase, object: Arc<u32>) -> Self {
//!         Self(base, object)
//!     }
//!     fn object(&self) -> Option<Arc<u32>> {
//!         Some(self.1.clone())
//!     }
//! }
//! ```
//!
//! A `Cell` is `Send` but not `Sync`: the served object is shared between
//! threads, so it does not compile either:
//!
//! ```compile_fail,E0277
//! use std::cell::Cell;
//! use std::sync::Arc;
//! use framework::private::{ServerAdapter, ServerBase};
//! use framework_itest::foo_capnp::foo_callback;
//!
//! struct CellServer(ServerBase, Arc<Cell<u32>>);
//! impl foo_callback::Server for CellServer {}
//! impl ServerAdapter for CellServer {
//!     type Client = foo_callback::Client;
//!     type Object = Arc<Cell<u32>>;
//!     fn new_server(base: ServerBase, object: Arc<Cell<u32>>) -> Self {
//!         Self(base, object)
//!     }
//!     fn object(&self) -> Option<Arc<Cell<u32>>> {
//!         Some(self.1.clone())
//!     }
//! }
//! ```
//!
//! The object a listener serves must be `Send` too: see
//! [`LoopHandle::listen`](framework::LoopHandle::listen).
