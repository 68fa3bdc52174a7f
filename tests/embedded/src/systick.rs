//! An embassy-time driver over the Cortex-M SysTick timer. SysTick interrupts once per
//! millisecond to count periods; the counter's current value gives the time within one.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::{SCB, SYST, syst::SystClkSource};
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::{Driver, TICK_HZ};
use embassy_time_queue_utils::Queue;

/// SysTick's reference clock on QEMU's lm3s6965evb: 3 s by this driver take 3 s of
/// QEMU's virtual time.
const CLOCK_HZ: u64 = 12_000_000;
const PERIODS_PER_SECOND: u64 = 1_000;
const CYCLES_PER_PERIOD: u32 = (CLOCK_HZ / PERIODS_PER_SECOND) as u32;
const TICKS_PER_PERIOD: u64 = TICK_HZ / PERIODS_PER_SECOND;

/// The time since [`start`], for embassy-time and so for `EmbassyClock`.
struct SysTickDriver {
    periods: Mutex<Cell<u64>>,
    wakers: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    periods: Mutex::new(Cell::new(0)),
    wakers: Mutex::new(RefCell::new(Queue::new())),
});

/// Starts the timer from 0, with a 1 ms interrupt.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::External);
    syst.set_reload(CYCLES_PER_PERIOD - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
    // The counter reads 0 until it first loads the reload value, which would read as the
    // end of a period and then run time backwards.
    while SYST::get_current() == 0 {}
}

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| {
            let mut periods = self.periods.borrow(cs).get();
            let mut remaining = SYST::get_current();
            // Interrupts are off in here, so a wrap since the last interrupt shows as a
            // pending SysTick: count its period, and read the counter after the wrap.
            if SCB::is_pendst_pending() {
                periods += 1;
                remaining = SYST::get_current();
            }
            let elapsed_cycles = u64::from(CYCLES_PER_PERIOD - 1 - remaining);
            periods * TICKS_PER_PERIOD + elapsed_cycles * TICK_HZ / CLOCK_HZ
        })
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        // The queue is checked on every interrupt: a timer wakes within 1 ms of `at`.
        critical_section::with(|cs| {
            self.wakers.borrow_ref_mut(cs).schedule_wake(at, waker);
        });
    }
}

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let periods = DRIVER.periods.borrow(cs);
        periods.set(periods.get() + 1);
    });
    let now = DRIVER.now();
    critical_section::with(|cs| {
        DRIVER.wakers.borrow_ref_mut(cs).next_expiration(now);
    });
}
