//! Lists of interface objects (`List(FooInterface)` ↔ `Vec<Box<dyn Foo>>`)
//! cross in both directions, and each element is what a single object would
//! be: the peer's own objects go back as themselves, local ones are served.
mod common;

use framework_itest::{Foo, FooImpl};

fn label() -> String {
    let t = std::thread::current();
    format!("{}:{:?}", t.name().unwrap_or("unnamed"), t.id())
}

#[test]
fn a_list_of_remote_objects_arrives_and_each_one_works() {
    let s = common::setup();
    let foos = s.foo.make_foos(3).unwrap();
    assert_eq!(foos.len(), 3);
    for (i, foo) in (0..).zip(&foos) {
        assert_eq!(foo.add(i, 10).unwrap(), i + 10);
    }
    assert!(s.foo.make_foos(0).unwrap().is_empty());
    assert!(s.foo.make_foos(framework_itest::MAX_FOOS + 1).is_err());
}

#[test]
fn a_list_of_local_objects_is_served_and_the_peer_calls_each() {
    let s = common::setup();
    let local: Vec<Box<dyn Foo>> = (0..3).map(|_| Box::new(FooImpl::default()) as Box<dyn Foo>).collect();
    // The server's calls come back to this thread, which waits in the call.
    assert_eq!(s.foo.thread_names(local).unwrap(), vec![label(); 3]);
}

#[test]
fn each_element_is_the_peers_own_object_or_ours() {
    let s = common::setup();
    let remote = s.foo.make_foos(2).unwrap();
    let server_side: Vec<String> = remote.iter().map(|f| f.thread_name().unwrap()).collect();
    let mut mixed = remote;
    mixed.insert(1, Box::new(FooImpl::default()));
    // The server reaches its own objects directly: a forwarder here would
    // have to make a blocking call from this process's loop, and fail.
    assert_eq!(s.foo.add_on_loop_each(mixed, 2, 3).unwrap(), vec![5, 5, 5]);

    let mut mixed = s.foo.make_foos(2).unwrap();
    mixed.insert(1, Box::new(FooImpl::default()));
    let back = s.foo.pass_foos(mixed).unwrap();
    assert_eq!(back.len(), 3);
    // Ours came back as ours (runs here); theirs as theirs.
    assert_eq!(back[1].thread_name().unwrap(), label());
    assert_eq!(back[0].thread_name().unwrap(), server_side[0]);
    assert_eq!(back[2].add(1, 1).unwrap(), 2);
}
