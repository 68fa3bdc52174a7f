//! A firmware for an emulated Cortex-M3 (QEMU's `lm3s6965evb`) that runs a jwm-cache
//! `Cache` on `EmbassyClock`, driven by the board's SysTick timer. It checks insert, hit,
//! capacity eviction and expiry by that clock, then exits through semihosting with
//! status 0, or 1 and the failed check, which QEMU passes on to `cargo run`.
//!
//! Without the `cache` feature it is the same board setup with no cache, the baseline
//! for the cache's flash and RAM cost.
#![no_std]
#![no_main]

extern crate alloc;

#[cfg(feature = "cache")]
mod checks;
mod systick;

use core::mem::MaybeUninit;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_alloc::LlffHeap as Heap;
use panic_semihosting as _;

const HEAP_BYTES: usize = 16 * 1024;

#[global_allocator]
static HEAP: Heap = Heap::empty();

#[entry]
fn main() -> ! {
    // cortex-m-rt hands `main` this static as a `&'static mut`, so it is used only here.
    static mut HEAP_MEMORY: [MaybeUninit<u8>; HEAP_BYTES] = [MaybeUninit::uninit(); HEAP_BYTES];
    // SAFETY: called once, before any allocation, with memory nothing else uses.
    unsafe { HEAP.init(HEAP_MEMORY.as_mut_ptr() as usize, HEAP_BYTES) }
    let peripherals = cortex_m::Peripherals::take().expect("taken once");
    systick::start(peripherals.SYST);

    match run() {
        Ok(()) => {
            hprintln!("embedded: all checks passed");
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(failed) => {
            hprintln!("embedded: check failed: {}", failed);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    // Outside QEMU, with no debugger to end the program, the core sleeps.
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(feature = "cache")]
fn run() -> Result<(), &'static str> {
    checks::run()
}

/// The baseline: allocates (so the allocator is linked, as with the cache) and waits on
/// the timer.
#[cfg(not(feature = "cache"))]
fn run() -> Result<(), &'static str> {
    let start = embassy_time::Instant::now();
    let buffer = alloc::vec![start.as_ticks(); 4];
    wait_until(start + embassy_time::Duration::from_millis(10))?;
    hprintln!("baseline: {} ticks", buffer[0]);
    Ok(())
}

/// Spins until the timer passes `deadline`, or fails if it stops or runs backwards.
fn wait_until(deadline: embassy_time::Instant) -> Result<(), &'static str> {
    let mut last = embassy_time::Instant::now();
    // About 3 s of emulated time (33 instructions an iteration, 16 ns each under
    // `-icount shift=4`): far more than any wait here needs.
    for _ in 0..5_000_000u32 {
        let now = embassy_time::Instant::now();
        if now < last {
            return Err("the SysTick clock ran backwards");
        }
        if now >= deadline {
            return Ok(());
        }
        last = now;
    }
    Err("the SysTick clock does not advance")
}
