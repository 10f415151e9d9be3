//! Simple and extended query protocol: every statement classified, planned once per
//! connection and statement (extended protocol), checked, audited before its first row, and
//! streamed under a cancel token.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::LogicalPlan;
use futures::{FutureExt, Sink, Stream, StreamExt, stream};
use kamei_audit::Action;
use kamei_audit::record::{purpose_ok, ticket_ok};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    CopyResponse, DataRowEncoder, DescribePortalResponse, DescribeResponse, DescribeStatementResponse,
    FieldFormat, FieldInfo, QueryResponse, Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;

use super::encode;
use super::stream::{Closing, batch_copy_lines, batch_rows, cancellable, guarded_tail, until_reloaded};
use super::{Connection, user_error};
use crate::audit::Entry;
use crate::error::GatewayError;
use crate::session::{Executable, GuardedSession, parameter_types};
use crate::statement::{Step, classify};
use crate::template::Template;

/// A statement prepared by Parse: its step and, for queries, the checked plan with its
/// placeholders (planned once per connection and statement, and once more after a
/// configuration reload).
#[derive(Debug)]
pub(crate) struct Prepared {
    step: Step,
    /// The statement as the audit record names it (literals are redacted there).
    text: String,
    plan: Option<Mutex<Planned>>,
    /// Per placeholder `$n`, the type the plan expects.
    params: Vec<Option<DataType>>,
}

/// A checked plan and the session it was planned in: its scans apply that session's levels,
/// so a session opened under a reloaded configuration plans the statement again. A query's
/// physical plan is kept too, when it can be (see `template.rs`), so that executions only
/// bind their values.
#[derive(Debug, Clone)]
struct Planned {
    session: Weak<GuardedSession>,
    plan: LogicalPlan,
    template: Option<Arc<Template>>,
}

impl Planned {
    async fn new(
        session: &Arc<GuardedSession>,
        step: &Step,
        plan: LogicalPlan,
        params: &[Option<DataType>],
    ) -> Planned {
        let template = session.template(step, &plan, params).await.map(Arc::new);
        Planned {
            session: Arc::downgrade(session),
            plan,
            template,
        }
    }

    /// The statement to run with `values` for its parameters.
    fn bind(&self, session: &GuardedSession, values: Vec<ScalarValue>) -> Result<Executable, GatewayError> {
        Ok(match &self.template {
            Some(t) => Executable::Prepared(t.clone(), values),
            None => Executable::Plan(session.bind(&self.plan, values)?),
        })
    }
}

impl Prepared {
    /// The plan for `session`: the one made at Parse, or, if the configuration was reloaded
    /// since, a new one, which must keep the result columns and parameter types the client
    /// was told (as PostgreSQL's "cached plan must not change result type").
    async fn plan_for(&self, session: &Arc<GuardedSession>) -> Result<Option<Planned>, GatewayError> {
        let Some(planned) = &self.plan else {
            return Ok(None);
        };
        let old = {
            let planned = planned.lock().unwrap_or_else(|p| p.into_inner());
            if Weak::ptr_eq(&planned.session, &Arc::downgrade(session)) {
                return Ok(Some(planned.clone()));
            }
            planned.plan.clone()
        };
        let new = session.plan(&self.step).await?;
        let same_params = new.get_parameter_types().ok() == old.get_parameter_types().ok();
        if new.schema().as_arrow() != old.schema().as_arrow() || !same_params {
            return Err(GatewayError::Stale);
        }
        let new = Planned::new(session, &self.step, new, &self.params).await;
        *planned.lock().unwrap_or_else(|p| p.into_inner()) = new.clone();
        Ok(Some(new))
    }
}

pub(crate) struct Queries {
    conn: Arc<Connection>,
    parser: Arc<Parser>,
}

impl Queries {
    pub fn new(conn: Arc<Connection>) -> Queries {
        Queries {
            parser: Arc::new(Parser { conn: conn.clone() }),
            conn,
        }
    }

    /// Binds a portal's parameters to its statement's plan and runs it.
    async fn execute_portal(
        &self,
        session: &Arc<GuardedSession>,
        portal: &Portal<Arc<Prepared>>,
    ) -> PgWireResult<Response> {
        let prepared = &portal.statement.statement;
        let session = session.clone();
        let plan = match prepared.plan_for(&session).await {
            Ok(Some(plan)) => plan,
            Ok(None) => {
                return self
                    .conn
                    .run_local(&session, &prepared.step, &prepared.text)
                    .await;
            }
            Err(e) => return Err(self.conn.refused(&session, &prepared.text, e).await),
        };
        let mut values = Vec::with_capacity(portal.parameters.len());
        for (i, raw) in portal.parameters.iter().enumerate() {
            let client_type = portal.statement.parameter_types.get(i).and_then(|t| t.as_ref());
            let wanted = prepared.params.get(i).and_then(|t| t.as_ref());
            match encode::parameter(
                raw.as_deref(),
                portal.parameter_format.is_binary(i),
                client_type,
                wanted,
            ) {
                Ok(value) => values.push(value),
                Err(e) => {
                    return Err(self
                        .conn
                        .record_denied(&session, &prepared.text, Vec::new(), e)
                        .await);
                }
            }
        }
        let bound = match plan.bind(&session, values) {
            Ok(p) => p,
            Err(e) => return Err(self.conn.refused(&session, &prepared.text, e).await),
        };
        self.conn
            .execute(
                &session,
                bound,
                &prepared.step,
                &prepared.text,
                &portal.result_column_format,
            )
            .await
    }
}

/// Parses and plans for the extended protocol.
pub(crate) struct Parser {
    conn: Arc<Connection>,
}

#[async_trait]
impl QueryParser for Parser {
    type Statement = Arc<Prepared>;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = self.conn.session_for(sql).await?;
        let work = self.prepare(&session, sql);
        self.conn.unwinding(&session, sql, work).await
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(stmt
            .params
            .iter()
            .map(|t| t.as_ref().map_or(Type::UNKNOWN, encode::pg_type))
            .collect())
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(match (&stmt.plan, &stmt.step) {
            (Some(planned), Step::Query { copy: false, .. } | Step::Explain(_)) => {
                let planned = planned.lock().unwrap_or_else(|p| p.into_inner());
                let schema: Schema = planned.plan.schema().as_arrow().clone();
                encode::fields(&schema, format.unwrap_or(&Format::UnifiedText))
            }
            (_, Step::Show { name }) => vec![text_field(name)],
            _ => Vec::new(),
        })
    }
}

fn text_field(name: &str) -> FieldInfo {
    FieldInfo::new(name.to_owned(), None, None, Type::TEXT, FieldFormat::Text)
}

/// The text of one statement for its audit record: the statement alone, as the parser reads
/// it (so a string of several statements gives each its own).
fn step_text(step: &Step) -> String {
    match step {
        Step::Query {
            statement,
            copy: false,
        }
        | Step::Explain(statement) => statement.to_string(),
        Step::Query {
            statement,
            copy: true,
        } => format!("COPY ({statement}) TO STDOUT"),
        // The value goes through the record's literal redaction like any other.
        Step::Set { name, value } => format!("SET {name} = '{}'", value.replace('\'', "''")),
        Step::Show { name } => format!("SHOW {name}"),
        Step::Begin => "BEGIN".into(),
        Step::Commit => "COMMIT".into(),
        Step::Rollback => "ROLLBACK".into(),
        Step::Discard => "DISCARD ALL".into(),
    }
}

impl Parser {
    /// Classifies, plans and checks one statement for Parse (run under [`Connection::unwinding`]).
    async fn prepare(&self, session: &Arc<GuardedSession>, sql: &str) -> PgWireResult<Option<Arc<Prepared>>> {
        let session = session.clone();
        let mut steps = match classify(sql) {
            Ok(steps) => steps,
            Err(r) => return Err(self.conn.refused(&session, sql, GatewayError::Refused(r.0)).await),
        };
        if steps.len() != 1 {
            let e = GatewayError::Refused("a prepared statement holds exactly one statement".into());
            return Err(self.conn.refused(&session, sql, e).await);
        }
        let step = steps.remove(0);
        let text = step_text(&step);
        let (plan, params) = match &step {
            Step::Query { .. } | Step::Explain(_) => {
                let plan = match session.plan(&step).await {
                    Ok(plan) => plan,
                    Err(e) => return Err(self.conn.refused(&session, &text, e).await),
                };
                let params = match parameter_types(&plan) {
                    Ok(params) => params,
                    Err(e) => {
                        let e = user_error("42P18", &crate::error::scrub(&e.to_string()));
                        return Err(self.conn.record_denied(&session, &text, Vec::new(), e).await);
                    }
                };
                (Some(plan), params)
            }
            _ => (None, Vec::new()),
        };
        Ok(Some(Arc::new(Prepared {
            text,
            plan: match plan {
                Some(plan) => Some(Mutex::new(Planned::new(&session, &step, plan, &params).await)),
                None => None,
            },
            params,
            step,
        })))
    }
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, _client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.conn.session_for(query).await?;
        let steps = match classify(query) {
            Ok(steps) => steps,
            Err(r) => {
                let e = self
                    .conn
                    .refused(&session, query, GatewayError::Refused(r.0))
                    .await;
                return Ok(vec![error_response(e)]);
            }
        };
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            let text = step_text(&step);
            let work = async {
                match &step {
                    Step::Query { .. } | Step::Explain(_) => match session.plan(&step).await {
                        Ok(plan) => {
                            self.conn
                                .execute(
                                    &session,
                                    Executable::Plan(plan),
                                    &step,
                                    &text,
                                    &Format::UnifiedText,
                                )
                                .await
                        }
                        Err(e) => Err(self.conn.refused(&session, &text, e).await),
                    },
                    _ => self.conn.run_local(&session, &step, &text).await,
                }
            };
            let result = self.conn.unwinding(&session, &text, work).await;
            match result {
                Ok(r) => out.push(r),
                Err(e) => {
                    // PostgreSQL stops a string at its first error.
                    out.push(error_response(e));
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// The error as the client sees it. Errors raised while rows were computed are already
/// scrubbed of values (`execution_error`); others carry only what the client wrote.
fn error_response(e: PgWireError) -> Response {
    Response::Error(Box::new(ErrorInfo::from(e)))
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = Arc<Prepared>;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &portal.statement.statement;
        let session = self.conn.session_for(&prepared.text).await?;
        let work = self.execute_portal(&session, portal);
        self.conn.unwinding(&session, &prepared.text, work).await
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        stmt: &StoredStatement<Self::Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let params = self.parser.get_parameter_types(&stmt.statement)?;
        let params = params
            .into_iter()
            .enumerate()
            .map(|(i, t)| stmt.parameter_types.get(i).cloned().flatten().unwrap_or(t))
            .collect();
        let fields = self.parser.get_result_schema(&stmt.statement, None)?;
        Ok(DescribeStatementResponse::new(params, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Self::Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let fields = self
            .parser
            .get_result_schema(&portal.statement.statement, Some(&portal.result_column_format))?;
        if fields.is_empty() {
            return Ok(DescribePortalResponse::no_data());
        }
        Ok(DescribePortalResponse::new(fields))
    }
}

impl Connection {
    /// Runs one statement's work; a panic in the engine (a bug, never the client's fault)
    /// becomes an error the client sees and a `denied` record, instead of a connection closed
    /// with nothing in the log.
    async fn unwinding<T>(
        &self,
        session: &GuardedSession,
        text: &str,
        work: impl std::future::Future<Output = PgWireResult<T>>,
    ) -> PgWireResult<T> {
        match std::panic::AssertUnwindSafe(work).catch_unwind().await {
            Ok(result) => result,
            Err(_) => {
                let e = user_error(
                    "XX000",
                    "the query engine failed on this statement (an internal error); it was stopped and recorded",
                );
                Err(self.record_denied(session, text, Vec::new(), e).await)
            }
        }
    }

    /// The session for a statement: [`Connection::session`], and when a reload has left the
    /// principal without one, the refusal recorded under the principal's last session (a
    /// revoked principal's open connection leaves a trace of every statement it still sends).
    async fn session_for(&self, text: &str) -> PgWireResult<Arc<GuardedSession>> {
        match self.session() {
            Ok(session) => Ok(session),
            Err(e) => match self.last_session() {
                Some(last) => Err(self.record_denied(&last, text, Vec::new(), e).await),
                None => Err(e),
            },
        }
    }

    /// Records a statement that did not run (refused by the guard, denied by policy, or failed
    /// before any row left) as `denied`, with the deciding policies where policy decided, and
    /// returns the error the client sees.
    async fn refused(&self, session: &GuardedSession, text: &str, e: GatewayError) -> PgWireError {
        let policies = match &e {
            GatewayError::Denied { policies, .. } => policies.clone(),
            // The log itself failed: nothing more can be recorded.
            GatewayError::Audit(_) => return e.into(),
            _ => Vec::new(),
        };
        self.record_denied(session, text, policies, e.into()).await
    }

    /// Appends the `denied` record of a statement that failed before it ran and returns its
    /// error (or the log's, if the record cannot be written).
    async fn record_denied(
        &self,
        session: &GuardedSession,
        text: &str,
        policies: Vec<String>,
        e: PgWireError,
    ) -> PgWireError {
        let entry = Entry {
            statement: text,
            policies,
            ..Entry::default()
        };
        self.record_unsent(session, Action::Denied, entry, e).await
    }

    /// Records a statement that failed while it ran, before any row was sent (a source gone
    /// away, a memory limit): a `query` of no rows with what its scans read and why it
    /// stopped, and returns its error. A refusal found only while running stays `denied`.
    async fn failed(
        &self,
        session: &GuardedSession,
        text: &str,
        trace: &crate::trace::Trace,
        e: GatewayError,
    ) -> PgWireError {
        if matches!(e, GatewayError::Denied { .. } | GatewayError::Audit(_)) {
            return self.refused(session, text, e).await;
        }
        let reads = trace.take();
        let entry = Entry {
            statement: text,
            reads: Some(&reads),
            failure: Some(e.failure()),
            ..Entry::default()
        };
        self.record_unsent(session, Action::Query, entry, e.into()).await
    }

    /// Records a statement cancelled (or timed out) before anything was sent, as a `query` of
    /// no rows with what its scans read so far, and returns the cancel error.
    async fn cancelled(
        &self,
        session: &GuardedSession,
        text: &str,
        trace: Option<&crate::trace::Trace>,
        e: PgWireError,
    ) -> PgWireError {
        let reads = trace.map(|t| t.take());
        let entry = Entry {
            statement: text,
            reads: reads.as_ref(),
            ..Entry::default()
        };
        self.record_unsent(session, Action::Query, entry, e).await
    }

    /// Appends the record of a statement that sent no row (with the session's purpose and
    /// ticket) and returns `e`, or the log's error if the record cannot be written.
    async fn record_unsent(
        &self,
        session: &GuardedSession,
        action: Action,
        entry: Entry<'_>,
        e: PgWireError,
    ) -> PgWireError {
        let entry = Entry {
            purpose: self.setting("kamei.purpose"),
            ticket: self.setting("kamei.ticket"),
            ..entry
        };
        match self
            .shared
            .audit
            .append(session.who(), self.peer, action, entry)
            .await
        {
            Ok(_) => e,
            Err(audit) => audit.into(),
        }
    }

    /// Answers a statement that reads no table (settings, SHOW, transactions) and records it:
    /// no data leaves, but the log holds every statement a principal sent, and a
    /// `SET kamei.purpose` says why what follows was read. A refused setting is `denied`.
    async fn run_local(&self, session: &GuardedSession, step: &Step, text: &str) -> PgWireResult<Response> {
        let answer = self.local(step);
        let action = if answer.is_ok() {
            Action::Query
        } else {
            Action::Denied
        };
        let entry = Entry {
            statement: text,
            purpose: self.setting("kamei.purpose"),
            ticket: self.setting("kamei.ticket"),
            ..Entry::default()
        };
        self.shared
            .audit
            .append(session.who(), self.peer, action, entry)
            .await?;
        answer
    }

    /// Answers a statement that reads no table: settings, SHOW, transactions.
    fn local(&self, step: &Step) -> PgWireResult<Response> {
        match step {
            Step::Set { name, value } => {
                let ok = match name.as_str() {
                    "kamei.purpose" => purpose_ok(value),
                    "kamei.ticket" => ticket_ok(value),
                    _ => true,
                };
                if !ok {
                    return Err(user_error(
                        "22023",
                        &format!(
                            "{name}: a purpose is up to 200 characters without an @ or long numbers; a ticket up to 64 letters, digits or _.:/#- and no number of 9 digits or more"
                        ),
                    ));
                }
                self.settings
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(name.clone(), value.clone());
                Ok(Response::Execution(Tag::new("SET")))
            }
            Step::Show { name } => {
                let value = self.show(name)?;
                let fields = Arc::new(vec![text_field(name)]);
                let mut encoder = DataRowEncoder::new(fields.clone());
                encoder.encode_field(&value)?;
                let row = encoder.take_row();
                Ok(Response::Query(QueryResponse::new(
                    fields,
                    stream::iter([Ok(row)]),
                )))
            }
            Step::Begin => Ok(Response::TransactionStart(Tag::new("BEGIN"))),
            Step::Commit => Ok(Response::TransactionEnd(Tag::new("COMMIT"))),
            Step::Rollback => Ok(Response::TransactionEnd(Tag::new("ROLLBACK"))),
            Step::Discard => {
                self.settings.lock().unwrap_or_else(|p| p.into_inner()).clear();
                Ok(Response::Execution(Tag::new("DISCARD ALL")))
            }
            Step::Query { .. } | Step::Explain(_) => {
                Err(user_error("XX000", "a query reached the settings path"))
            }
        }
    }

    fn show(&self, name: &str) -> PgWireResult<String> {
        if let Some(v) = self.setting(name) {
            return Ok(v);
        }
        let fixed = match name {
            "server_version" => format!("16.6 (kamei {})", env!("CARGO_PKG_VERSION")),
            "server_encoding" | "client_encoding" => "UTF8".into(),
            "datestyle" => "ISO, YMD".into(),
            "timezone" => "Etc/UTC".into(),
            "transaction isolation level" | "default_transaction_isolation" => "read committed".into(),
            "transaction_read_only" | "default_transaction_read_only" => "on".into(),
            "standard_conforming_strings" | "integer_datetimes" => "on".into(),
            "is_superuser" => "off".into(),
            "search_path" => "public".into(),
            "application_name" | "kamei.purpose" | "kamei.ticket" => String::new(),
            "extra_float_digits" => "1".into(),
            "statement_timeout" => "0".into(),
            "intervalstyle" => "postgres".into(),
            "max_identifier_length" => "63".into(),
            "session_authorization" | "kamei.principal" => self.session()?.who().principal.clone(),
            _ => {
                return Err(user_error(
                    "42704",
                    &format!("unrecognized configuration parameter \"{name}\""),
                ));
            }
        };
        Ok(fixed)
    }

    /// Runs a checked plan: buffers the result up to the bound, appends the record, then
    /// answers; a larger result is streamed between an opening and a closing record.
    async fn execute(
        &self,
        session: &Arc<GuardedSession>,
        statement: Executable,
        step: &Step,
        text: &str,
        format: &Format,
    ) -> PgWireResult<Response> {
        let token = self.start_statement();
        let timeout = self
            .setting("statement_timeout")
            .and_then(|v| parse_timeout(&v))
            .filter(|d| !d.is_zero());
        if let Some(limit) = timeout {
            let t = token.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = tokio::time::sleep(limit) => t.cancel(),
                    _ = t.cancelled() => {}
                }
            });
        }
        let copy = matches!(step, Step::Query { copy: true, .. });
        let generation = self.session_generation();
        let running = match cancellable(&token, session.run_statement(statement)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(self.refused(session, text, e).await),
            Err(c) => return Err(self.cancelled(session, text, None, c).await),
        };
        let trace = running.trace();
        let mut stream = running.stream;
        let schema = stream.schema();
        let fields = Arc::new(if copy {
            encode::fields(&schema, &Format::UnifiedText)
        } else {
            encode::fields(&schema, format)
        });
        let mut buffer = VecDeque::new();
        let mut rows = 0usize;
        let mut complete = false;
        while rows <= self.shared.options.buffer_rows {
            let next = match cancellable(&token, stream.next()).await {
                Ok(next) => next,
                Err(c) => return Err(self.cancelled(session, text, Some(&*trace), c).await),
            };
            match next {
                None => {
                    complete = true;
                    break;
                }
                Some(Ok(batch)) => {
                    rows += batch.num_rows();
                    buffer.push_back(batch);
                }
                Some(Err(e)) => {
                    let e = crate::session::execution_error(e);
                    return Err(self.failed(session, text, &trace, e).await);
                }
            }
        }
        let audit = self.shared.audit.clone();
        let buffered = stream::iter(buffer.into_iter().map(Ok));
        let batches: std::pin::Pin<
            Box<dyn Stream<Item = PgWireResult<datafusion::arrow::array::RecordBatch>> + Send>,
        > = if complete {
            let entry = Entry {
                statement: text,
                rows: rows as u64,
                reads: Some(&trace.take()),
                purpose: self.setting("kamei.purpose"),
                ticket: self.setting("kamei.ticket"),
                ..Entry::default()
            };
            audit
                .append(session.who(), self.peer, Action::Query, entry)
                .await?;
            Box::pin(buffered)
        } else {
            // The opening record names the columns and levels; the subjects come with the
            // closing one, which the trace keeps collecting for.
            let columns = crate::trace::Reads {
                tables: trace.tables(),
                subjects: Default::default(),
            };
            let entry = Entry {
                statement: text,
                reads: Some(&columns),
                purpose: self.setting("kamei.purpose"),
                ticket: self.setting("kamei.ticket"),
                ..Entry::default()
            };
            let opening = audit
                .append(session.who(), self.peer, Action::Query, entry)
                .await?;
            let closing = Closing {
                who: session.who().clone(),
                audit,
                peer: self.peer,
                text: text.to_owned(),
                opening,
                trace,
                rows: rows as u64,
                purpose: self.setting("kamei.purpose"),
                ticket: self.setting("kamei.ticket"),
                failure: None,
                done: false,
            };
            Box::pin(buffered.chain(guarded_tail(stream, token, closing)))
        };
        let shared = self.shared.clone();
        if copy {
            let lines = until_reloaded(batch_copy_lines(batches), shared, generation);
            return Ok(Response::CopyOut(CopyResponse::new(0, fields.len(), lines)));
        }
        let rows_out = until_reloaded(batch_rows(batches, fields.clone()), shared, generation);
        Ok(Response::Query(QueryResponse::new(fields, rows_out)))
    }
}

/// `statement_timeout` as PostgreSQL reads it: milliseconds, or a number with a unit.
fn parse_timeout(v: &str) -> Option<std::time::Duration> {
    let v = v.trim();
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let n: u64 = v.get(..digits)?.parse().ok()?;
    let ms = match v.get(digits..)?.trim() {
        "" | "ms" => n,
        "s" => n.saturating_mul(1000),
        "min" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return None,
    };
    Some(std::time::Duration::from_millis(ms))
}
