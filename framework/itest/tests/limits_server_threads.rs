//! Server threads are capped for the whole process, not only per
//! connection (issue 12, item 5): a listener without a connection limit
//! cannot be made to start 256 threads per client.

mod hostile;

use std::sync::Barrier;
use std::time::Duration;

use framework::EventLoop;
use hostile::{wait_for, ListenServer};

/// Two clients, each asking for 4 server threads at once (one per client
/// thread, by its first Context call), against a server allowing 4 per
/// connection and 6 in the process: 6 are made, 2 refused as overloaded.
#[test]
fn server_threads_are_capped_for_the_whole_process() {
    let server = ListenServer::start(0, &["-max-threads-per-connection=4", "-max-server-threads=6"]);
    let event_loop = EventLoop::new().expect("event loop");
    let clients: Vec<_> = (0..2).map(|_| server.connect(&event_loop).expect("connect")).collect();
    let barrier = Barrier::new(8);
    let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = clients
            .iter()
            .flat_map(|(init, _)| std::iter::repeat_n(init, 4))
            .map(|init| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let outcome = init.make_foo().map(drop).map_err(|e| e.message);
                    // Every client thread keeps its server thread until all
                    // have asked.
                    barrier.wait();
                    outcome
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("client thread")).collect()
    });
    let refused: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(refused.len(), 2, "outcomes: {outcomes:?}");
    for message in refused {
        assert!(message.contains("too many server threads in this process"), "{message}");
    }

    // The threads of client threads that have exited are given back.
    wait_for("server threads to be given back", Duration::from_secs(10), || {
        std::thread::scope(|scope| scope.spawn(|| clients[0].0.make_foo().is_ok()).join().unwrap())
    });
}
