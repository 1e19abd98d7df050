//! The connection's `VatNetwork`: capnp-rpc's two-party protocol over a
//! unix stream, framed like `capnp::serialize` (so any Cap'n Proto peer
//! talks to it), with the reader and writer of this module's siblings.
//!
//! It replaces `capnp_rpc::twoparty::VatNetwork` for three reasons: a
//! declared message size is not allocated before its bytes arrive
//! ([`read`](super::read)); outgoing bytes are counted until they leave the
//! process ([`write`](super::write)); and reading pauses while the peer has
//! too much outstanding ([`backlog`](super::backlog)).
//!
//! It also carries an implementation error's kind (`NotFound`, ...; see
//! [`crate::register_error_kind`]) between framework peers where no other
//! peer looks: capnp-rpc 0.27 puts only a type and a reason into an
//! `Exception` (its `capnp::Error` has nothing else), and the reason is what
//! C++ and pycapnp peers show (`remote exception: std::exception: <message>`),
//! so the kind may not stay there. On the way out the kind, which rides in
//! the reason behind [`KIND_MARK`] inside this process, is moved to the
//! exception's `trace` field (free text that C++ keeps apart as the
//! exception's remote trace, never in its description; capnp-rpc ignores
//! it); on the way in a `trace` of ours is moved back behind the reason,
//! where `Error::from(capnp::Error)` finds and strips it.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Poll;

use capnp::capability::Promise;
use capnp::message::{Builder, HeapAllocator, Reader, ReaderOptions};
use capnp_rpc::rpc_capnp::{exception, message as rpc_message, resolve, return_};
use capnp_rpc::rpc_twoparty_capnp::Side;
use futures::channel::oneshot;
use futures::future::poll_fn;
use futures::FutureExt;

use super::backlog::Backlog;
use super::read::{MessageReader, Segments};
use super::write::WriteQueue;
use crate::error::KIND_MARK;
use crate::event_loop::stream::{ReadHalf, WriteHalf};
use crate::ErrorKind;

/// A received message; its bytes count as held until it is dropped.
struct Incoming {
    message: Reader<Segments>,
    /// The message as capnp-rpc is to see it, when it differs (an
    /// exception whose kind came in its `trace`).
    rewritten: Option<Builder<HeapAllocator>>,
    bytes: usize,
    backlog: Rc<Backlog>,
}

impl capnp_rpc::IncomingMessage for Incoming {
    fn get_body(&self) -> capnp::Result<capnp::any_pointer::Reader<'_>> {
        match &self.rewritten {
            Some(copy) => copy.get_root_as_reader(),
            None => self.message.get_root(),
        }
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        self.backlog.released(self.bytes);
    }
}

/// What a `trace` holding a kind of ours starts with (followed by the
/// kind's wire name): a foreign trace is left alone.
const TRACE_PREFIX: &str = "framework-error-kind: ";

/// The exception a `Return` or `Resolve` carries (or an `Abort`'s).
fn exception_of(message: rpc_message::Builder<'_>) -> Option<exception::Builder<'_>> {
    match message.which().ok()? {
        rpc_message::Return(Ok(r)) => match r.which().ok()? {
            return_::Exception(Ok(e)) => Some(e),
            _ => None,
        },
        rpc_message::Resolve(Ok(r)) => match r.which().ok()? {
            resolve::Exception(Ok(e)) => Some(e),
            _ => None,
        },
        rpc_message::Abort(Ok(e)) => Some(e),
        _ => None,
    }
}

fn exception_of_reader(message: rpc_message::Reader<'_>) -> Option<exception::Reader<'_>> {
    match message.which().ok()? {
        rpc_message::Return(Ok(r)) => match r.which().ok()? {
            return_::Exception(Ok(e)) => Some(e),
            _ => None,
        },
        rpc_message::Resolve(Ok(r)) => match r.which().ok()? {
            resolve::Exception(Ok(e)) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// Outgoing: moves a kind from behind the reason to the `trace` field.
fn kind_to_trace(message: &mut Builder<HeapAllocator>) {
    let Ok(root) = message.get_root::<rpc_message::Builder<'_>>() else { return };
    let Some(mut exception) = exception_of(root) else { return };
    let reason = match exception.reborrow_as_reader().get_reason().map(|r| r.to_string()) {
        Ok(Ok(reason)) => reason,
        _ => return,
    };
    if let Some((reason, name)) = reason.rsplit_once(KIND_MARK) {
        exception.set_trace(format!("{TRACE_PREFIX}{name}").as_str());
        exception.set_reason(reason);
    }
}

/// Incoming: a copy of `message` with the kind its `trace` names put back
/// behind the reason, if it is an exception from a framework peer.
fn kind_from_trace(message: &Reader<Segments>) -> Option<Builder<HeapAllocator>> {
    let root = message.get_root::<rpc_message::Reader<'_>>().ok()?;
    let exception = exception_of_reader(root)?;
    if !exception.has_trace() {
        return None;
    }
    let name = exception.get_trace().ok()?.to_str().ok()?.strip_prefix(TRACE_PREFIX)?;
    ErrorKind::from_wire_name(name)?;
    let reason = format!("{}{KIND_MARK}{name}", exception.get_reason().ok()?.to_str().ok()?);
    let mut copy = Builder::new_default();
    copy.set_root(root).ok()?;
    let mut exception = exception_of(copy.get_root::<rpc_message::Builder<'_>>().ok()?)?;
    exception.set_reason(reason.as_str());
    Some(copy)
}

struct Outgoing {
    message: Builder<HeapAllocator>,
    queue: Rc<WriteQueue>,
}

impl capnp_rpc::OutgoingMessage for Outgoing {
    fn get_body(&mut self) -> capnp::Result<capnp::any_pointer::Builder<'_>> {
        self.message.get_root()
    }

    fn get_body_as_reader(&self) -> capnp::Result<capnp::any_pointer::Reader<'_>> {
        self.message.get_root_as_reader()
    }

    fn send(self: Box<Self>) -> (Promise<(), capnp::Error>, Rc<Builder<HeapAllocator>>) {
        let Outgoing { mut message, queue } = *self;
        kind_to_trace(&mut message);
        let message = Rc::new(message);
        let sent = queue.push(message.clone());
        let promise = sent.map(|r| r.map_err(|_| capnp::Error::disconnected("the connection closed".into())));
        (Promise::from_future(promise), message)
    }

    fn take(self: Box<Self>) -> Builder<HeapAllocator> {
        self.message
    }

    fn size_in_words(&self) -> usize {
        self.message.size_in_words()
    }
}

/// What every handle on the one connection shares.
struct Shared {
    /// Taken by the read in progress (capnp-rpc reads one message at a time).
    reader: Rc<RefCell<Option<MessageReader>>>,
    queue: Rc<WriteQueue>,
    backlog: Rc<Backlog>,
    peer: Side,
    options: ReaderOptions,
    /// Fired when the last handle goes (capnp-rpc has let go of the connection).
    dropped: Option<oneshot::Sender<()>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(dropped) = self.dropped.take() {
            let _ = dropped.send(());
        }
    }
}

struct Connection(Rc<Shared>);

async fn receive(
    reader: Rc<RefCell<Option<MessageReader>>>,
    backlog: Rc<Backlog>,
    options: ReaderOptions,
) -> capnp::Result<Option<Box<dyn capnp_rpc::IncomingMessage>>> {
    let Some(mut stream) = reader.borrow_mut().take() else {
        return Err(capnp::Error::failed("a message is already being read".into()));
    };
    // While paused, a peer that hangs up is still noticed, and taken as the
    // end of the stream: what it sent meanwhile would only be read to be
    // cancelled (capnp-rpc cancels every call when the stream ends), and
    // reading it would queue replies past the limits.
    let hung_up = poll_fn(|cx| match backlog.poll_may_read(cx) {
        Poll::Ready(()) => Poll::Ready(false),
        Poll::Pending => stream.poll_hangup(cx).map(|()| true),
    })
    .await;
    if hung_up {
        *reader.borrow_mut() = Some(stream);
        return Ok(None);
    }
    let segments = stream.read().await?;
    *reader.borrow_mut() = Some(stream);
    let Some(segments) = segments else { return Ok(None) };
    let bytes = segments.allocated_bytes();
    let message = Reader::new(segments, options);
    backlog.received(bytes, message.get_root::<capnp_rpc::rpc_capnp::message::Reader<'_>>().ok());
    let rewritten = kind_from_trace(&message);
    Ok(Some(Box::new(Incoming { message, rewritten, bytes, backlog })))
}

impl capnp_rpc::Connection<Side> for Connection {
    fn get_peer_vat_id(&self) -> Side {
        self.0.peer
    }

    fn new_outgoing_message(&mut self, first_segment_word_size: u32) -> Box<dyn capnp_rpc::OutgoingMessage> {
        let message = Builder::new(HeapAllocator::new().first_segment_words(first_segment_word_size));
        Box::new(Outgoing { message, queue: self.0.queue.clone() })
    }

    fn receive_incoming_message(
        &mut self,
    ) -> Promise<Option<Box<dyn capnp_rpc::IncomingMessage>>, capnp::Error> {
        let shared = &self.0;
        Promise::from_future(receive(shared.reader.clone(), shared.backlog.clone(), shared.options))
    }

    fn shutdown(&mut self, _result: capnp::Result<()>) -> Promise<(), capnp::Error> {
        self.0.queue.close();
        Promise::ok(())
    }
}

/// The two-party network of one connection; `side` is this process's.
pub(crate) struct Network {
    /// Handed out once, by `accept`.
    connection: Option<Connection>,
    shared: std::rc::Weak<Shared>,
    driver: Option<Promise<(), capnp::Error>>,
    side: Side,
}

impl Network {
    pub(crate) fn new(
        reader: ReadHalf,
        writer: WriteHalf,
        side: Side,
        options: ReaderOptions,
        max_message_bytes: usize,
        backlog: Rc<Backlog>,
    ) -> Self {
        let queue = WriteQueue::new(backlog.clone());
        let (dropped, on_dropped) = oneshot::channel();
        let shared = Rc::new(Shared {
            reader: Rc::new(RefCell::new(Some(MessageReader::new(reader, max_message_bytes)))),
            queue: queue.clone(),
            backlog,
            peer: if side == Side::Client { Side::Server } else { Side::Client },
            options,
            dropped: Some(dropped),
        });
        // The RPC system ends when this completes: once the writer is done
        // (the queue closed, or a write failed) and capnp-rpc has dropped
        // the connection (it saw the end of the stream or was told to
        // disconnect).
        let driver = async move {
            let written = queue.run(writer).await;
            let _ = on_dropped.await;
            written
        };
        Self {
            shared: Rc::downgrade(&shared),
            connection: Some(Connection(shared)),
            driver: Some(Promise::from_future(driver)),
            side,
        }
    }
}

impl capnp_rpc::VatNetwork<Side> for Network {
    fn connect(&mut self, host: Side) -> Option<Box<dyn capnp_rpc::Connection<Side>>> {
        if host == self.side {
            return None;
        }
        let shared = self.shared.upgrade()?;
        Some(Box::new(Connection(shared)))
    }

    fn accept(&mut self) -> Promise<Box<dyn capnp_rpc::Connection<Side>>, capnp::Error> {
        match self.connection.take() {
            Some(c) => Promise::ok(Box::new(c) as Box<dyn capnp_rpc::Connection<Side>>),
            None => Promise::from_future(futures::future::pending()),
        }
    }

    fn drive_until_shutdown(&mut self) -> Promise<(), capnp::Error> {
        self.driver.take().unwrap_or_else(|| Promise::from_future(futures::future::pending()))
    }
}
