//! Matching must not allocate: it runs once per stored event on every FilterLogEvents.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use query::FilterPattern;

/// Counts allocations made by the current thread only, so the test harness's other
/// threads cannot disturb the count.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, i.e. from the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn matching_does_not_allocate() {
    let patterns: Vec<FilterPattern> =
        ["", "ERROR", "\"INTERNAL SERVER ERROR\" -DEBUG", "?FAILED_CONNECT ?DISCONNECT", "admin shop QUERY -SELECT", "\"café\""]
            .iter()
            .map(|text| FilterPattern::parse(text).unwrap())
            .collect();
    let messages: [&[u8]; 4] = [
        b"20261121 11:45:01,ip-10-0-0-12,admin,10.0.0.5,1234,5678,QUERY,shop,'SELECT 1',0",
        b"[ERROR 500] INTERNAL SERVER ERROR",
        "un café".as_bytes(),
        b"",
    ];

    let before = allocations();
    let mut hits = 0;
    for pattern in &patterns {
        for message in messages {
            hits += usize::from(pattern.matches(std::hint::black_box(message)));
        }
    }
    let after = allocations();

    assert_eq!(after - before, 0, "matching allocated");
    // Guards against the loop being vacuous: these patterns do match some messages.
    assert!(hits >= 6, "only {hits} matches");
}

#[test]
fn counter_sees_allocations() {
    // Proves the allocator is installed, so the test above can fail.
    let before = allocations();
    let boxed = std::hint::black_box(Box::new(7_u64));
    assert!(allocations() > before);
    drop(boxed);
}
