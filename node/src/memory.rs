//! The process's memory as `getmemoryinfo` reports it.
//!
//! Bitcoin Core's `getmemoryinfo` describes its locked pool, the `mlock`ed arena where it keeps
//! private keys. This node has no such pool (its keys live in the wallet, in its own process when
//! the wallets run apart), so the same shape describes the memory this process really uses:
//! the heap as counted by [`CountingAllocator`] (bytes and allocations live now), the free space
//! glibc's malloc holds for reuse, and the bytes locked in RAM (`VmLck`). `mallocinfo` is glibc's
//! own `malloc_info` report, as in Core.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE_CHUNKS: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the bytes and allocations live. Executables install it with
/// `#[global_allocator]`; without it [`stats`] falls back to glibc's own totals.
#[derive(Debug, Default)]
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// updates two counters, so `System`'s guarantees (a valid block for `layout`, or null) hold.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on unchanged.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
            LIVE_CHUNKS.fetch_add(1, Ordering::Relaxed);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
            LIVE_CHUNKS.fetch_add(1, Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from this allocator (hence `System`) with `layout`.
        unsafe { System.dealloc(block, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE_CHUNKS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `block` came from this allocator (hence `System`) with `layout`.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

/// `getmemoryinfo`'s numbers (Core's `locked` object's fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes allocated and not freed.
    pub used: u64,
    /// Bytes malloc holds free for reuse.
    pub free: u64,
    /// `used + free`.
    pub total: u64,
    /// Bytes locked in RAM.
    pub locked: u64,
    /// Allocations live.
    pub chunks_used: u64,
    /// Free chunks malloc holds.
    pub chunks_free: u64,
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// This process's memory now.
pub fn stats() -> MemoryStats {
    // SAFETY: `mallinfo2` only reads malloc's statistics (taking its locks); no pointer involved.
    let info = unsafe { libc::mallinfo2() };
    let (counted_bytes, counted_chunks) =
        (LIVE_BYTES.load(Ordering::Relaxed), LIVE_CHUNKS.load(Ordering::Relaxed));
    // Without the counting allocator installed the counters stay 0: glibc's totals then (in-use
    // bytes of the arenas and of mmapped blocks; only the mmapped blocks are counted one by one).
    let (used, chunks_used) = if counted_chunks > 0 {
        (counted_bytes, counted_chunks)
    } else {
        (info.uordblks + info.hblkhd, info.hblks)
    };
    let free = to_u64(info.fordblks);
    MemoryStats {
        used: to_u64(used),
        free,
        total: to_u64(used).saturating_add(free),
        locked: locked_bytes(),
        chunks_used: to_u64(chunks_used),
        chunks_free: to_u64(info.ordblks + info.smblks),
    }
}

/// `VmLck` of `/proc/self/status`, in bytes (0 when unreadable).
fn locked_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib.saturating_mul(1024))
}

/// glibc's `malloc_info` XML (`<malloc version="1">...`).
pub fn malloc_info() -> std::io::Result<String> {
    let mut buffer: *mut libc::c_char = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: `open_memstream` gets valid pointers to our two locals, which outlive the stream.
    let stream = unsafe { libc::open_memstream(&mut buffer, &mut size) };
    if stream.is_null() {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `stream` is the open stream made above.
    let written = unsafe { libc::malloc_info(0, stream) };
    // SAFETY: closing the stream we opened; after it `buffer`/`size` hold the text.
    let closed = unsafe { libc::fclose(stream) };
    let text = if buffer.is_null() {
        String::new()
    } else {
        // SAFETY: after `fclose`, `buffer` points to `size` bytes that the stream wrote.
        let bytes = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), size) };
        let text = String::from_utf8_lossy(bytes).into_owned();
        // SAFETY: the buffer was allocated by `open_memstream` with malloc and is ours to free.
        unsafe { libc::free(buffer.cast()) };
        text
    };
    if written != 0 || closed != 0 {
        return Err(std::io::Error::other("malloc_info failed"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The library's unit tests run with the counter, as the executables do.
    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    #[test]
    fn stats_add_up() {
        let kept: Vec<Vec<u8>> = (0..100).map(|i| vec![0; 100 + i]).collect();
        let s = stats();
        assert_eq!(s.total, s.used + s.free);
        assert!(s.used >= (100..200).sum::<usize>() as u64 && s.chunks_used >= 100, "{s:?}");
        drop(kept);
    }

    #[test]
    fn malloc_info_is_xml() {
        let xml = malloc_info().expect("malloc_info");
        assert!(xml.starts_with("<malloc"), "{xml}");
    }
}
