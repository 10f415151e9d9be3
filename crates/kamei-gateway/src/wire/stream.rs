//! How a result's rows leave: streamed after the buffered part under a closing record that is
//! written however the stream ends, stopped by a cancel request or a configuration reload, and
//! encoded as data rows or COPY text lines.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use futures::{Stream, StreamExt, stream};
use kamei_audit::Action;
use pgwire::api::results::FieldInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::CopyData;
use pgwire::messages::data::DataRow;
use tokio_util::sync::CancellationToken;

use super::{encode, user_error};
use crate::audit::{Audit, Entry};
use crate::error::GatewayError;

/// The closing record of a streamed result. Written when the result ends, fails or is
/// cancelled, and also when it is dropped unfinished (a portal left suspended, a client gone):
/// the log then still says how many rows were produced and whose.
pub(super) struct Closing {
    pub(super) who: crate::session::Who,
    pub(super) audit: Audit,
    pub(super) peer: std::net::SocketAddr,
    pub(super) text: String,
    pub(super) opening: u64,
    pub(super) trace: Arc<crate::trace::Trace>,
    /// Rows produced so far (counted per batch taken from the engine).
    pub(super) rows: u64,
    pub(super) purpose: Option<String>,
    pub(super) ticket: Option<String>,
    /// Why the result stopped before its end, if it did (`GatewayError::failure`).
    pub(super) failure: Option<String>,
    pub(super) done: bool,
}

impl Closing {
    /// The record's future; `self` is marked done so that dropping it writes nothing more.
    fn close(&mut self) -> impl std::future::Future<Output = Result<u64, GatewayError>> + Send + 'static {
        self.done = true;
        let (audit, who, peer) = (self.audit.clone(), self.who.clone(), self.peer);
        let (text, rows, opening) = (self.text.clone(), self.rows, self.opening);
        let (purpose, ticket) = (self.purpose.clone(), self.ticket.clone());
        let failure = self.failure.clone();
        let reads = self.trace.take();
        async move {
            let entry = Entry {
                statement: &text,
                rows,
                reads: Some(&reads),
                opens: Some(opening),
                purpose,
                ticket,
                failure,
                ..Entry::default()
            };
            audit.append(&who, peer, Action::Query, entry).await
        }
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let record = self.close();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = record.await {
                        super::tracing_line(&format!("cannot write a closing audit record: {e}"));
                    }
                });
            }
            Err(_) => super::tracing_line(
                "a streamed result ended outside the runtime: its closing record is missing",
            ),
        }
    }
}

/// The rest of a streamed result: batches until the end, an error or a cancel, then the
/// closing record, linked to the opening one.
pub(super) fn guarded_tail(
    stream: SendableRecordBatchStream,
    token: CancellationToken,
    closing: Closing,
) -> impl Stream<Item = PgWireResult<RecordBatch>> + Send {
    enum State {
        Running(SendableRecordBatchStream, CancellationToken, Box<Closing>),
        Done,
    }
    stream::unfold(
        State::Running(stream, token, Box::new(closing)),
        |state| async move {
            let State::Running(mut stream, token, mut closing) = state else {
                return None;
            };
            let next = tokio::select! {
                n = stream.next() => n,
                _ = token.cancelled() => Some(Err(datafusion::error::DataFusionError::Execution("canceling statement due to user request".into()))),
            };
            match next {
                Some(Ok(batch)) => {
                    closing.rows += batch.num_rows() as u64;
                    Some((Ok(batch), State::Running(stream, token, closing)))
                }
                end => {
                    drop(stream);
                    let failed = match end {
                        Some(Err(_)) if token.is_cancelled() => Some(PgWireError::QueryCanceled),
                        Some(Err(e)) => {
                            let e = crate::session::execution_error(e);
                            closing.failure = Some(e.failure());
                            Some(PgWireError::from(e))
                        }
                        _ => None,
                    };
                    let error = match closing.close().await {
                        Err(e) => Some(PgWireError::from(e)),
                        Ok(_) => failed,
                    };
                    error.map(|e| (Err(e), State::Done))
                }
            }
        },
    )
}

/// Ends a result at its first row after a configuration reload: rows computed under the old
/// levels must not reach the client once a permission is revoked (a suspended portal would
/// otherwise hand them out whenever it is resumed).
pub(super) fn until_reloaded<T: Send + 'static>(
    rows: impl Stream<Item = PgWireResult<T>> + Send + 'static,
    shared: Arc<super::Shared>,
    generation: u64,
) -> impl Stream<Item = PgWireResult<T>> + Send {
    rows.scan(false, move |stopped, row| {
        let next = if *stopped {
            None
        } else if shared.generation() != generation {
            *stopped = true;
            Some(Err(user_error(
                "0A000",
                "the configuration was reloaded while this result was being sent; run the statement again",
            )))
        } else {
            Some(row)
        };
        futures::future::ready(next)
    })
}

/// Encodes batches as data rows.
pub(super) fn batch_rows(
    batches: impl Stream<Item = PgWireResult<RecordBatch>> + Send + 'static,
    fields: Arc<Vec<FieldInfo>>,
) -> impl Stream<Item = PgWireResult<DataRow>> + Send {
    per_row(batches, move |b| encode::rows(b, &fields))
}

/// Encodes batches as lines of COPY's text format, a data message each.
pub(super) fn batch_copy_lines(
    batches: impl Stream<Item = PgWireResult<RecordBatch>> + Send + 'static,
) -> impl Stream<Item = PgWireResult<CopyData>> + Send {
    per_row(batches, |b| {
        encode::copy_lines(b).map(|lines| lines.into_iter().map(CopyData::new).collect())
    })
}

/// A stream of batches as a stream of their encoded rows; an error ends it.
fn per_row<T: Send + 'static>(
    batches: impl Stream<Item = PgWireResult<RecordBatch>> + Send + 'static,
    encode: impl Fn(&RecordBatch) -> PgWireResult<Vec<T>> + Send + 'static,
) -> impl Stream<Item = PgWireResult<T>> + Send {
    batches
        .map(move |b| match b.and_then(|b| encode(&b)) {
            Ok(rows) => stream::iter(rows.into_iter().map(Ok).collect::<Vec<_>>()),
            Err(e) => stream::iter(vec![Err(e)]),
        })
        .flatten()
}

/// Runs a future unless the statement is cancelled first.
pub(super) async fn cancellable<T>(
    token: &CancellationToken,
    f: impl std::future::Future<Output = T>,
) -> PgWireResult<T> {
    tokio::select! {
        v = f => Ok(v),
        _ = token.cancelled() => Err(PgWireError::QueryCanceled),
    }
}
