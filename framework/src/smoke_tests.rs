//! Runtime smoke tests over a real socketpair between two event loops, with
//! hand-written glue in exactly the shape `framework-codegen` emits. The
//! full behaviour suite lives in `framework/itest`, on generated glue.

use std::io;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use crate::convert::{BuildContext, BuildPointer, FromCapability, ReadContext, ReadPointer, ToCapability};
use crate::private::*;
use crate::{EventLoop, Result};

use crate::smoke_capnp::{smoke_echo, smoke_init};

trait Echo: Send + Sync {
    fn echo(&self, text: String) -> io::Result<String>;
    fn call_back(&self, cb: Box<dyn Echo>, text: String) -> io::Result<String>;
    fn echo_on_loop(&self, text: String) -> io::Result<String>;
}

trait Init: Send + Sync {
    fn make_echo(&self) -> io::Result<Box<dyn Echo>>;
}

impl Interface for smoke_echo::Client {
    const NAME: &'static str = "SmokeEcho";
    const INTERFACE_ID: u64 = <smoke_echo::Client as capnp::traits::HasTypeId>::TYPE_ID;
    const DESTROY: Option<u16> = Some(0);
    const CONSTRUCT: Option<u16> = None;
}

impl Interface for smoke_init::Client {
    const NAME: &'static str = "SmokeInit";
    const INTERFACE_ID: u64 = <smoke_init::Client as capnp::traits::HasTypeId>::TYPE_ID;
    const DESTROY: Option<u16> = None;
    const CONSTRUCT: Option<u16> = Some(0);
}

struct EchoProxy {
    base: ProxyClient<smoke_echo::Client>,
}

impl FromProxyClient<smoke_echo::Client> for EchoProxy {
    fn from_proxy_client(base: ProxyClient<smoke_echo::Client>) -> Self {
        Self { base }
    }
    fn proxy_client(&self) -> &ProxyClient<smoke_echo::Client> {
        &self.base
    }
}

static ECHO_ECHO: CallInfo = CallInfo { interface: "SmokeEcho", method: "echo", context: true };
static ECHO_CALL_BACK: CallInfo = CallInfo { interface: "SmokeEcho", method: "callBack", context: true };
static ECHO_ON_LOOP: CallInfo = CallInfo { interface: "SmokeEcho", method: "echoOnLoop", context: false };
static INIT_MAKE_ECHO: CallInfo = CallInfo { interface: "SmokeInit", method: "makeEcho", context: true };

impl Echo for EchoProxy {
    fn echo(&self, echo: String) -> io::Result<String> {
        self.base
            .call(
                &ECHO_ECHO,
                move |client: &smoke_echo::Client, cx: &mut ClientCall<'_>| {
                    let mut request = client.echo_request();
                    {
                        let mut p = request.get();
                        cx.build_context(p.reborrow().init_context())?;
                        BuildPointer::<capnp::text::Owned>::build_pointer(echo, cx.values(), |len| {
                            p.reborrow().init_echo(len)
                        })?;
                        cx.finish_params(&p.reborrow_as_reader(), p.reborrow_as_reader().total_size()?)?;
                    }
                    Ok(request)
                },
                move |response: capnp::capability::Response<smoke_echo::echo_results::Owned>,
                      cx: &mut ClientReply<'_>| {
                    let r = response.get()?;
                    cx.log_results(&r);
                    let result: String =
                        ReadPointer::<capnp::text::Owned>::read_pointer(r.get_result()?, cx.values())?;
                    Ok(result)
                },
            )
            .map_err(to_app_error)
    }

    fn call_back(&self, cb: Box<dyn Echo>, text: String) -> io::Result<String> {
        self.base
            .call(
                &ECHO_CALL_BACK,
                move |client: &smoke_echo::Client, cx: &mut ClientCall<'_>| {
                    let mut request = client.call_back_request();
                    {
                        let mut p = request.get();
                        cx.build_context(p.reborrow().init_context())?;
                        p.set_cb(ToCapability::<smoke_echo::Client>::to_capability(cb, cx.values())?);
                        BuildPointer::<capnp::text::Owned>::build_pointer(text, cx.values(), |len| {
                            p.reborrow().init_text(len)
                        })?;
                        cx.finish_params(&p.reborrow_as_reader(), p.reborrow_as_reader().total_size()?)?;
                    }
                    Ok(request)
                },
                move |response: capnp::capability::Response<smoke_echo::call_back_results::Owned>,
                      cx: &mut ClientReply<'_>| {
                    let r = response.get()?;
                    let result: String =
                        ReadPointer::<capnp::text::Owned>::read_pointer(r.get_result()?, cx.values())?;
                    Ok(result)
                },
            )
            .map_err(to_app_error)
    }

    fn echo_on_loop(&self, echo: String) -> io::Result<String> {
        self.base
            .call(
                &ECHO_ON_LOOP,
                move |client: &smoke_echo::Client, cx: &mut ClientCall<'_>| {
                    let mut request = client.echo_on_loop_request();
                    {
                        let mut p = request.get();
                        BuildPointer::<capnp::text::Owned>::build_pointer(echo, cx.values(), |len| {
                            p.reborrow().init_echo(len)
                        })?;
                        cx.finish_params(&p.reborrow_as_reader(), p.reborrow_as_reader().total_size()?)?;
                    }
                    Ok(request)
                },
                move |response: capnp::capability::Response<smoke_echo::echo_on_loop_results::Owned>,
                      cx: &mut ClientReply<'_>| {
                    let r = response.get()?;
                    ReadPointer::<capnp::text::Owned>::read_pointer(r.get_result()?, cx.values())
                },
            )
            .map_err(to_app_error)
    }
}

struct EchoServer {
    base: ServerBase,
    imp: Arc<dyn Echo>,
}

impl ServerAdapter for EchoServer {
    type Client = smoke_echo::Client;
    type Object = Arc<dyn Echo>;
    fn new_server(base: ServerBase, object: Self::Object) -> Self {
        Self { base, imp: object }
    }
    fn object(&self) -> Option<Self::Object> {
        Some(self.imp.clone())
    }
}

type Outcome = std::result::Result<(), capnp::Error>;

impl smoke_echo::Server for EchoServer {
    fn destroy(
        self: capnp::capability::Rc<Self>,
        params: smoke_echo::DestroyParams,
        results: smoke_echo::DestroyResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        self.base.destroy("SmokeEcho", params, results, None::<()>)
    }

    fn echo(
        self: capnp::capability::Rc<Self>,
        params: smoke_echo::EchoParams,
        results: smoke_echo::EchoResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        let imp = self.imp.clone();
        self.base.serve(
            &ECHO_ECHO,
            params,
            results,
            move |p: smoke_echo::echo_params::Reader<'_>, cx: &mut ServerCall<'_>| {
                cx.log_params(&p);
                cx.read_context(p.get_context()?)?;
                let echo: String =
                    ReadPointer::<capnp::text::Owned>::read_pointer(p.get_echo()?, cx.values())?;
                Ok(move || imp.echo(echo))
            },
            move |value: String, mut r: smoke_echo::echo_results::Builder<'_>, cx: &mut ServerReply<'_>| {
                BuildPointer::<capnp::text::Owned>::build_pointer(value, cx.values(), |len| {
                    r.reborrow().init_result(len)
                })?;
                cx.log_results(&r.reborrow_as_reader());
                Ok(())
            },
        )
    }

    fn call_back(
        self: capnp::capability::Rc<Self>,
        params: smoke_echo::CallBackParams,
        results: smoke_echo::CallBackResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        let imp = self.imp.clone();
        self.base.serve(
            &ECHO_CALL_BACK,
            params,
            results,
            move |p: smoke_echo::call_back_params::Reader<'_>, cx: &mut ServerCall<'_>| {
                cx.read_context(p.get_context()?)?;
                let cb: Box<dyn Echo> =
                    FromCapability::<smoke_echo::Client>::from_capability(p.get_cb()?, cx.values())?;
                let text: String =
                    ReadPointer::<capnp::text::Owned>::read_pointer(p.get_text()?, cx.values())?;
                Ok(move || imp.call_back(cb, text))
            },
            move |value: String,
                  mut r: smoke_echo::call_back_results::Builder<'_>,
                  cx: &mut ServerReply<'_>| {
                BuildPointer::<capnp::text::Owned>::build_pointer(value, cx.values(), |len| {
                    r.reborrow().init_result(len)
                })
            },
        )
    }

    fn echo_on_loop(
        self: capnp::capability::Rc<Self>,
        params: smoke_echo::EchoOnLoopParams,
        results: smoke_echo::EchoOnLoopResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        let imp = self.imp.clone();
        self.base.serve(
            &ECHO_ON_LOOP,
            params,
            results,
            move |p: smoke_echo::echo_on_loop_params::Reader<'_>, cx: &mut ServerCall<'_>| {
                let echo: String =
                    ReadPointer::<capnp::text::Owned>::read_pointer(p.get_echo()?, cx.values())?;
                Ok(move || imp.echo_on_loop(echo))
            },
            move |value: String,
                  mut r: smoke_echo::echo_on_loop_results::Builder<'_>,
                  cx: &mut ServerReply<'_>| {
                BuildPointer::<capnp::text::Owned>::build_pointer(value, cx.values(), |len| {
                    r.reborrow().init_result(len)
                })
            },
        )
    }
}

impl ToCapability<smoke_echo::Client> for Box<dyn Echo> {
    fn to_capability(self, ctx: &mut BuildContext<'_>) -> Result<smoke_echo::Client> {
        export_object::<EchoServer>(ctx, Arc::from(self))
    }
}

struct EchoLocal(Arc<dyn Echo>);

impl Echo for EchoLocal {
    fn echo(&self, text: String) -> io::Result<String> {
        self.0.echo(text)
    }
    fn call_back(&self, cb: Box<dyn Echo>, text: String) -> io::Result<String> {
        self.0.call_back(cb, text)
    }
    fn echo_on_loop(&self, text: String) -> io::Result<String> {
        self.0.echo_on_loop(text)
    }
}

impl FromCapability<smoke_echo::Client> for Box<dyn Echo> {
    fn from_capability(client: smoke_echo::Client, ctx: &mut ReadContext<'_>) -> Result<Self> {
        import_object::<EchoServer, EchoProxy>(ctx, client).map(|o| match o {
            Imported::Local(arc) => Box::new(EchoLocal(arc)) as Box<dyn Echo>,
            Imported::Remote(proxy) => Box::new(proxy) as Box<dyn Echo>,
        })
    }
}

struct InitProxy {
    base: ProxyClient<smoke_init::Client>,
}

impl FromProxyClient<smoke_init::Client> for InitProxy {
    fn from_proxy_client(base: ProxyClient<smoke_init::Client>) -> Self {
        Self { base }
    }
    fn proxy_client(&self) -> &ProxyClient<smoke_init::Client> {
        &self.base
    }
}

impl Init for InitProxy {
    fn make_echo(&self) -> io::Result<Box<dyn Echo>> {
        self.base
            .call(
                &INIT_MAKE_ECHO,
                move |client: &smoke_init::Client, cx: &mut ClientCall<'_>| {
                    let mut request = client.make_echo_request();
                    {
                        let mut p = request.get();
                        cx.build_context(p.reborrow().init_context())?;
                        cx.finish_params(&p.reborrow_as_reader(), p.reborrow_as_reader().total_size()?)?;
                    }
                    Ok(request)
                },
                move |response: capnp::capability::Response<smoke_init::make_echo_results::Owned>,
                      cx: &mut ClientReply<'_>| {
                    let r = response.get()?;
                    let result: Box<dyn Echo> =
                        FromCapability::<smoke_echo::Client>::from_capability(r.get_result()?, cx.values())?;
                    Ok(result)
                },
            )
            .map_err(to_app_error)
    }
}

struct InitServer {
    base: ServerBase,
    imp: Arc<dyn Init>,
}

impl ServerAdapter for InitServer {
    type Client = smoke_init::Client;
    type Object = Arc<dyn Init>;
    fn new_server(base: ServerBase, object: Self::Object) -> Self {
        Self { base, imp: object }
    }
    fn object(&self) -> Option<Self::Object> {
        Some(self.imp.clone())
    }
}

impl smoke_init::Server for InitServer {
    fn construct(
        self: capnp::capability::Rc<Self>,
        params: smoke_init::ConstructParams,
        results: smoke_init::ConstructResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        self.base.construct("Init", params, results)
    }

    fn make_echo(
        self: capnp::capability::Rc<Self>,
        params: smoke_init::MakeEchoParams,
        results: smoke_init::MakeEchoResults,
    ) -> impl std::future::Future<Output = Outcome> + 'static {
        let imp = self.imp.clone();
        self.base.serve(
            &INIT_MAKE_ECHO,
            params,
            results,
            move |p: smoke_init::make_echo_params::Reader<'_>, cx: &mut ServerCall<'_>| {
                cx.read_context(p.get_context()?)?;
                Ok(move || imp.make_echo())
            },
            move |value: Box<dyn Echo>,
                  mut r: smoke_init::make_echo_results::Builder<'_>,
                  cx: &mut ServerReply<'_>| {
                r.set_result(ToCapability::<smoke_echo::Client>::to_capability(value, cx.values())?);
                Ok(())
            },
        )
    }
}

impl ToCapability<smoke_init::Client> for Box<dyn Init> {
    fn to_capability(self, ctx: &mut BuildContext<'_>) -> Result<smoke_init::Client> {
        export_object::<InitServer>(ctx, Arc::from(self))
    }
}

impl FromCapability<smoke_init::Client> for Box<dyn Init> {
    fn from_capability(client: smoke_init::Client, ctx: &mut ReadContext<'_>) -> Result<Self> {
        import_object::<InitServer, InitProxy>(ctx, client).map(|o| match o {
            Imported::Local(_) => unreachable!("test never loops an Init back"),
            Imported::Remote(proxy) => Box::new(proxy) as Box<dyn Init>,
        })
    }
}

// ---- implementations and tests ----

struct EchoImpl;

fn thread_id() -> String {
    format!("{:?}", std::thread::current().id())
}

impl Echo for EchoImpl {
    fn echo(&self, text: String) -> io::Result<String> {
        if text == "fail" {
            return Err(io::Error::other("asked to fail"));
        }
        if text == "panic" {
            panic!("asked to panic");
        }
        if text == "thread" {
            return Ok(thread_id());
        }
        Ok(text)
    }
    fn call_back(&self, cb: Box<dyn Echo>, text: String) -> io::Result<String> {
        let first = cb.echo(text)?;
        Ok(format!("via callback: {first}"))
    }
    fn echo_on_loop(&self, text: String) -> io::Result<String> {
        Ok(text)
    }
}

struct InitImpl;

impl Init for InitImpl {
    fn make_echo(&self) -> io::Result<Box<dyn Echo>> {
        Ok(Box::new(EchoImpl))
    }
}

struct Pair {
    client: Box<dyn Init>,
    _client_loop: EventLoop,
    server_loop: Option<EventLoop>,
}

fn pair() -> Pair {
    let (a, b) = UnixStream::pair().unwrap();
    let server_loop = EventLoop::new().unwrap();
    let client_loop = EventLoop::new().unwrap();
    server_loop
        .handle()
        .serve_stream::<smoke_init::Client, _>(a, Box::new(InitImpl) as Box<dyn Init>)
        .unwrap();
    let (client, _conn) =
        client_loop.handle().connect_stream::<smoke_init::Client, Box<dyn Init>>(b).unwrap();
    Pair { client, _client_loop: client_loop, server_loop: Some(server_loop) }
}

#[test]
fn echo_round_trip_runs_on_a_server_worker_thread() {
    let p = pair();
    let echo = p.client.make_echo().unwrap();
    assert_eq!(echo.echo("hello".into()).unwrap(), "hello");
    assert_eq!(echo.echo_on_loop("on loop".into()).unwrap(), "on loop");
    let remote_thread = echo.echo("thread".into()).unwrap();
    assert_ne!(remote_thread, thread_id());
    // The same client thread always maps to the same server thread.
    assert_eq!(echo.echo("thread".into()).unwrap(), remote_thread);
}

#[test]
fn errors_and_panics_reach_the_caller_and_the_server_survives() {
    let p = pair();
    let echo = p.client.make_echo().unwrap();
    let err = echo.echo("fail".into()).unwrap_err();
    assert!(err.to_string().contains("asked to fail"), "{err}");
    let err = echo.echo("panic".into()).unwrap_err();
    assert!(err.to_string().contains("asked to panic"), "{err}");
    assert_eq!(echo.echo("still here".into()).unwrap(), "still here");
}

struct CallerThreadEcho;

impl Echo for CallerThreadEcho {
    fn echo(&self, _text: String) -> io::Result<String> {
        Ok(thread_id())
    }
    fn call_back(&self, _cb: Box<dyn Echo>, _text: String) -> io::Result<String> {
        Ok(String::new())
    }
    fn echo_on_loop(&self, text: String) -> io::Result<String> {
        Ok(text)
    }
}

#[test]
fn callbacks_run_on_the_calling_thread() {
    let p = pair();
    let echo = p.client.make_echo().unwrap();
    let answer = echo.call_back(Box::new(CallerThreadEcho), "x".into()).unwrap();
    assert_eq!(answer, format!("via callback: {}", thread_id()));
}

#[test]
fn calls_fail_with_disconnected_after_the_server_goes() {
    let mut p = pair();
    let echo = p.client.make_echo().unwrap();
    assert_eq!(echo.echo("a".into()).unwrap(), "a");
    drop(p.server_loop.take());
    let err = echo.echo("b".into()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted, "{err}");
}

#[test]
fn many_sequential_calls_do_not_stall() {
    let p = pair();
    let echo = p.client.make_echo().unwrap();
    let start = std::time::Instant::now();
    for i in 0..2000 {
        assert_eq!(echo.echo(i.to_string()).unwrap(), i.to_string());
    }
    eprintln!("2000 calls in {:?}", start.elapsed());
}
