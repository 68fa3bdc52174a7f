//! An embassy-time driver over the Cortex-M SysTick timer. SysTick interrupts once per
//! millisecond to count periods; the counter's current value gives the time within one.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use cortex_m::peripheral::{SCB, SYST, syst::SystClkSource};
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::{Driver, TICK_HZ};
use embassy_time_queue_utils::Queue;

/// The core clock, which SysTick counts: QEMU's lm3s6965evb runs at its reset SYSCLK,
/// the 200 MHz PLL divided by 16. (Stellaris parts have no external SysTick source.)
const CLOCK_HZ: u64 = 12_500_000;
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
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CYCLES_PER_PERIOD - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| {
            let mut periods = self.periods.borrow(cs).get();
            let mut counter = SYST::get_current();
            // A period ends as the counter reaches 0, which pends the interrupt; interrupts
            // are off in here, so an uncounted period shows as a pending SysTick. Then
            // count it, and read the counter again: that reading is after the wrap, and
            // the reading before it may not be.
            if SCB::is_pendst_pending() {
                periods += 1;
                counter = SYST::get_current();
            }
            // The counter runs from the reload value down to 0, and 0 is the next
            // period's start.
            let elapsed_cycles = u64::from((CYCLES_PER_PERIOD - counter) % CYCLES_PER_PERIOD);
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
