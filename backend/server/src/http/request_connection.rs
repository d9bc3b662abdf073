//! One pooled connection per request: the connection the `Caller`
//! extractor identified the caller on is handed to the request's first
//! database work, instead of returning to the pool and a second one being
//! checked out (each checkout costs a round trip to test the connection).
//!
//! The connection is kept in a task-local slot that lives as long as the
//! request's handling (`within`, set up by the request-context middleware),
//! so it returns to the pool at the latest when the response is ready.
//! A handler that reads a large body before it touches the database gives
//! it back first ([`release`]), so a slow upload holds no connection.

use std::cell::RefCell;

use crate::db::PgPooled;

tokio::task_local! {
    static HANDED_OVER: RefCell<Option<PgPooled>>;
}

/// Runs a request's handling with a slot for its connection.
pub async fn within<F: std::future::Future>(handling: F) -> F::Output {
    HANDED_OVER.scope(RefCell::new(None), handling).await
}

/// Keeps `conn` for the request's next database work.
pub fn keep(conn: PgPooled) {
    // Outside a request (a test calling the extractor directly), the
    // connection simply goes back to the pool.
    let _ = HANDED_OVER.try_with(|slot| *slot.borrow_mut() = Some(conn));
}

/// The connection kept for this request, if any.
pub fn take() -> Option<PgPooled> {
    HANDED_OVER.try_with(|slot| slot.borrow_mut().take()).ok().flatten()
}

/// Gives the kept connection back to the pool now: before reading a
/// large request body.
pub fn release() {
    drop(take());
}
