//! Byte buffers reused across the transactions of one thread.
//!
//! A transaction copies what its rules read into owned buffers: request scalars,
//! header and cookie pairs, decoded arguments (a 4 KB form holds some 120 of them).
//! Allocating each and freeing it again when the transaction ends costs more than
//! the rules that read most of them; a finished transaction instead hands its
//! buffers back here ([`give`]) and the next one on the thread takes them ([`take`]),
//! emptied, with their capacity.
//!
//! Bounds: at most [`MAX_BUFFERS`] buffers are kept, none larger than
//! [`MAX_BUFFER_CAPACITY`] bytes, so a thread keeps at most 1 MiB here.

use std::cell::RefCell;

/// Most buffers kept per thread.
pub(crate) const MAX_BUFFERS: usize = 1024;

/// Largest buffer (capacity in bytes) kept.
pub(crate) const MAX_BUFFER_CAPACITY: usize = 1024;

thread_local! {
    static BUFFERS: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's spare buffers (for many takes at once; an empty pool
/// while it runs for any nested use).
pub(crate) fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    let mut pool = Pool(BUFFERS.with(|buffers| std::mem::take(&mut *buffers.borrow_mut())));
    let result = f(&mut pool);
    BUFFERS.with(|buffers| {
        let mut buffers = buffers.borrow_mut();
        if buffers.is_empty() {
            // The usual case (no nested use): the pool goes back as it is, not copied.
            std::mem::swap(&mut *buffers, &mut pool.0);
        } else {
            buffers.append(&mut pool.0);
            buffers.truncate(MAX_BUFFERS);
        }
    });
    result
}

/// Spare buffers (see [`with_pool`]).
pub(crate) struct Pool(Vec<Vec<u8>>);

impl Pool {
    /// An empty buffer, with the capacity of a returned one when there is one.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        self.0.pop().unwrap_or_default()
    }

    /// A buffer holding `bytes`.
    pub(crate) fn copy(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut buffer = self.take();
        buffer.extend_from_slice(bytes);
        buffer
    }

    /// Keeps `buffer` (emptied) for a later [`Pool::take`], within the bounds.
    pub(crate) fn give(&mut self, mut buffer: Vec<u8>) {
        let capacity = buffer.capacity();
        if capacity > 0 && capacity <= MAX_BUFFER_CAPACITY && self.0.len() < MAX_BUFFERS {
            buffer.clear();
            self.0.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_within_bounds() {
        with_pool(|pool| {
            let mut buffer = pool.copy(b"value");
            buffer.extend_from_slice(b" more");
            pool.give(buffer);
            pool.give(Vec::with_capacity(MAX_BUFFER_CAPACITY + 1));
            let again = pool.take();
            assert!(again.is_empty());
            assert!(again.capacity() >= 10);
            assert!(pool.0.iter().all(|b| b.capacity() <= MAX_BUFFER_CAPACITY));
        });
    }
}
