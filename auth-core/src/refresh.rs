//! The shared state of an [`crate::Authenticator`] and its refresh critical section.
//!
//! # Why the refresh runs in its own task
//! Once a refresh request is sent, the provider may rotate the refresh token (Act-On does, and
//! refuses the old one from then on). If the refresh ran inside the caller's future, Ctrl-C, a
//! dropped stream or a timeout around the caller would drop it between the provider's rotation
//! and the save, and the only copy of the new refresh token would be gone (RT-3). So the
//! critical section (store lock → re-read → refresh → save) runs in a spawned task that no
//! caller owns: callers await a shared handle to it and may go away at any time; the task
//! finishes, saves, and hands its outcome to whoever still waits (single flight, RT-1/RT-2).
//! [`crate::wait_for_pending_refreshes`] lets a program that is about to exit let it finish.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use connstr::Secret;
use connstr::validate::InitiateOAuth;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use token_store::{StoreLock, TokenRecord, TokenStore};

use crate::authenticator::{Grant, code_error, record_tokens, verifier_digest};
use crate::grants::TokenClient;
use crate::token::TokenSet;
use crate::{Error, Result};

/// After a failed proactive refresh, keep using the valid token this long before trying again.
const RETRY_AFTER_FAILED_REFRESH_MS: u64 = 30_000;
/// Tries for a refresh that fails with an error that is safe to retry.
pub(crate) const REFRESH_ATTEMPTS: u32 = 3;
/// A refresh forced by a 401 whose new token is refused within this window is not repeated.
const FORCED_REFRESH_LOOP_MS: u64 = 60_000;
/// After a refresh failed transiently (and no valid token was left), callers arriving within
/// this time get the same error instead of a new attempt: no storm of identical requests
/// (RT-2, TE-6).
const FAILED_REFRESH_HOLD_MS: u64 = 2_000;

/// Token requests that are out (sent, or about to be) and whose outcome is not saved yet,
/// process-wide (see [`crate::wait_for_pending_refreshes`]).
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Set by [`crate::stop_new_token_requests`]: a program on its way out sends no new grant.
static STOPPING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Waits until no token request of this process is out with its outcome unsaved, at most
/// `timeout`; returns whether none is left.
///
/// A program that stops on Ctrl-C calls [`crate::stop_new_token_requests`] and then this
/// before it exits (and before its runtime is dropped), so that a refresh whose request is
/// already out completes and saves the rotated tokens. Waiting for a browser login or for
/// another process's lock does not count: there is nothing to lose yet.
///
/// ```
/// # async fn run() {
/// let settled = auth_core::wait_for_pending_refreshes(std::time::Duration::from_secs(5)).await;
/// assert!(settled);
/// # }
/// ```
pub async fn wait_for_pending_refreshes(timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while PENDING.load(Ordering::SeqCst) > 0 {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// Whether a token request of this process is out with its outcome unsaved.
///
/// ```
/// assert!(!auth_core::token_requests_pending());
/// ```
pub fn token_requests_pending() -> bool {
    PENDING.load(Ordering::SeqCst) > 0
}

/// From now on, no authenticator of this process sends a new token request (they fail with
/// [`Error::Cancelled`]); requests already out complete and save. For a program that is
/// stopping (Ctrl-C): a refresh started after the user asked to stop could be cut off by the
/// exit.
///
/// ```no_run
/// auth_core::stop_new_token_requests();
/// ```
pub fn stop_new_token_requests() {
    STOPPING.store(true, Ordering::SeqCst);
}

/// Counts one critical section with a token request out, for [`wait_for_pending_refreshes`].
#[derive(Debug)]
struct PendingGuard;

impl PendingGuard {
    fn begin() -> Result<Self> {
        if STOPPING.load(Ordering::SeqCst) {
            return Err(Error::Cancelled);
        }
        PENDING.fetch_add(1, Ordering::SeqCst);
        Ok(PendingGuard)
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        PENDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The span of a critical section (or `login`): a token request marks it pending, and the mark
/// ends with it, after the save.
pub(crate) struct Window<'a>(&'a Inner);

impl<'a> Window<'a> {
    pub(crate) fn open(inner: &'a Inner) -> Self {
        Window(inner)
    }
}

impl Drop for Window<'_> {
    fn drop(&mut self) {
        *self
            .0
            .request_out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

/// Tokens given as connection properties.
#[derive(Debug, Clone)]
pub(crate) struct Given {
    pub(crate) tokens: TokenSet,
    /// No OAuthExpiresIn/OAuthTokenTimestamp: refresh before first use.
    pub(crate) refresh_first: bool,
}

/// The tokens this process uses now.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    pub(crate) tokens: TokenSet,
    pub(crate) due_at_ms: Option<u64>,
    /// Rotated tokens the store has not accepted yet (FS-3): newer than the file, saved again
    /// on every later use and when the authenticator is dropped.
    pub(crate) unsaved: Option<Unsaved>,
    /// Set when a refresh failed transiently while the token was still valid (RT-11).
    pub(crate) retry_not_before_ms: u64,
    /// When this token came from a refresh forced by a 401 (RT-12 loop guard).
    pub(crate) forced_at_ms: Option<u64>,
}

/// Why [`Current::tokens`] are not in the store yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unsaved {
    /// The revision of the stored record whose refresh token was used.
    pub(crate) stale_revision: u64,
}

/// What a caller of the critical section wants.
#[derive(Debug, Clone, Default)]
pub(crate) struct Request {
    /// The API refused this access token with 401.
    pub(crate) failed: Option<Secret>,
    /// Refresh even if the stored token is not due (`EXEC RefreshOAuthAccessToken`).
    pub(crate) force: bool,
}

type SharedOutcome = Shared<BoxFuture<'static, std::result::Result<TokenSet, Arc<Error>>>>;

/// The refresh in flight, numbered so that a finished flight clears only its own slot.
type Flight = (u64, SharedOutcome);

/// Everything an authenticator knows; shared with its spawned refresh tasks.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) tokens: TokenClient,
    pub(crate) initiate: InitiateOAuth,
    pub(crate) grant: Grant,
    pub(crate) scopes: Vec<String>,
    pub(crate) callback_url: Option<String>,
    pub(crate) verifier: Option<Secret>,
    pub(crate) given: Option<Given>,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) lock_timeout: Duration,
    pub(crate) browser_timeout: Duration,
    pub(crate) browser: Option<String>,
    pub(crate) margin_ms: u64,
    pub(crate) jitter_ms: u64,
    pub(crate) time: crate::time::SharedTimeSource,
    /// Serialises the critical section with `login` and `logout` in this process.
    pub(crate) exclusive: tokio::sync::Mutex<()>,
    pub(crate) current: Mutex<Option<Current>>,
    in_flight: Mutex<Option<Flight>>,
    flights: AtomicUsize,
    /// Set while a token request of the current critical section is out (see [`Window`]).
    request_out: Mutex<Option<PendingGuard>>,
    /// The last transient failure of a flight, and when (see [`FAILED_REFRESH_HOLD_MS`]).
    last_failure: Mutex<Option<(u64, Arc<Error>)>>,
}

/// The stored record, and whether it was read.
type Stored = Option<TokenRecord>;

impl Inner {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        tokens: TokenClient,
        initiate: InitiateOAuth,
        grant: Grant,
        scopes: Vec<String>,
        callback_url: Option<String>,
        verifier: Option<Secret>,
        given: Option<Given>,
        store: Option<Arc<dyn TokenStore>>,
        timeouts: (Duration, Duration),
        browser: Option<String>,
        margin_jitter_ms: (u64, u64),
        time: crate::time::SharedTimeSource,
    ) -> Self {
        Self {
            tokens,
            initiate,
            grant,
            scopes,
            callback_url,
            verifier,
            given,
            store,
            lock_timeout: timeouts.0,
            browser_timeout: timeouts.1,
            browser,
            margin_ms: margin_jitter_ms.0,
            jitter_ms: margin_jitter_ms.1,
            time,
            exclusive: tokio::sync::Mutex::new(()),
            current: Mutex::new(None),
            in_flight: Mutex::new(None),
            flights: AtomicUsize::new(0),
            request_out: Mutex::new(None),
            last_failure: Mutex::new(None),
        }
    }

    // ----- the entry point -------------------------------------------------------------------

    /// A valid access token: from memory, from the store (no lock needed to read), or from the
    /// single-flight critical section.
    pub(crate) async fn obtain(self: &Arc<Self>, failed: Option<&Secret>) -> Result<Secret> {
        let now = self.time.now_ms();
        let current = self.current_tokens();
        if let Some(c) = &current
            && let Some(answer) = self.answer_from_memory(c, failed, now)
        {
            return answer;
        }
        if failed.is_none()
            && current.as_ref().is_none_or(|c| c.unsaved.is_none())
            && let Some(access) = self.valid_stored_token(now).await?
        {
            return Ok(access);
        }
        let request = Request {
            failed: failed.cloned(),
            force: false,
        };
        let tokens = self.run_in_flight(request.clone()).await?;
        // A flight that started before our 401 may hand back the very token that failed.
        if failed.is_some_and(|f| tokens.access_token.ct_eq(f)) {
            return Ok(self.run_in_flight(request).await?.access_token);
        }
        Ok(tokens.access_token)
    }

    /// What memory alone can answer: a valid current token, the RT-13 shortcut, the RT-12 stop.
    fn answer_from_memory(
        &self,
        current: &Current,
        failed: Option<&Secret>,
        now: u64,
    ) -> Option<Result<Secret>> {
        match failed {
            // RT-13: another task already replaced the token that failed.
            Some(f) if !current.tokens.access_token.ct_eq(f) => {
                Some(Ok(current.tokens.access_token.clone()))
            }
            // RT-12: the token from a forced refresh was refused too: stop.
            Some(_)
                if current
                    .forced_at_ms
                    .is_some_and(|t| now.saturating_sub(t) < FORCED_REFRESH_LOOP_MS) =>
            {
                Some(Err(Error::ReauthorizationRequired {
                    reason: format!(
                        "{} refused a freshly refreshed token (revoked access?)",
                        self.tokens.provider.name
                    ),
                    location: self.location_text(),
                    command: Some(self.command_name()),
                }))
            }
            None if !self.is_due(current, now) && current.unsaved.is_none() => {
                Some(Ok(current.tokens.access_token.clone()))
            }
            _ => None,
        }
    }

    /// A token another process stored that is valid and not due: adopted without the lock, so
    /// a read-only settings directory still serves valid tokens (FS-4).
    async fn valid_stored_token(&self, now: u64) -> Result<Option<Secret>> {
        if self.store.is_none() || self.verifier.is_some() {
            return Ok(None);
        }
        let Some(record) = self.load_store().await? else {
            return Ok(None);
        };
        let tokens = record_tokens(&record);
        let due = self.due_at(&tokens).is_some_and(|d| now >= d);
        if tokens.access_token.is_empty() || due || tokens.expires_at_ms().is_none() {
            return Ok(None);
        }
        Ok(Some(self.adopt_without_saving(tokens)))
    }

    /// Joins the refresh in flight or starts one in a task no caller owns.
    pub(crate) async fn run_in_flight(self: &Arc<Self>, request: Request) -> Result<TokenSet> {
        let outcome = {
            let mut slot = self
                .in_flight
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let joined = slot
                .as_ref()
                .filter(|_| !request.force)
                .map(|(_, shared)| shared.clone());
            match joined {
                Some(shared) => shared,
                None => {
                    // RT-2: right after a failed flight, its error, not a new attempt.
                    if !request.force
                        && request.failed.is_none()
                        && let Some(error) = self.recent_failure(self.time.now_ms())
                    {
                        return Err(Error::from_shared(error));
                    }
                    let number = self.flights.fetch_add(1, Ordering::SeqCst) as u64;
                    let shared = self.start_flight(request, number);
                    *slot = Some((number, shared.clone()));
                    shared
                }
            }
        };
        outcome.await.map_err(Error::from_shared)
    }

    fn start_flight(self: &Arc<Self>, request: Request, number: u64) -> SharedOutcome {
        let inner = Arc::clone(self);
        let work = async move {
            let outcome = inner.critical_section(request).await.map_err(Arc::new);
            // Under the slot's lock, so that no caller sees neither the flight nor its failure.
            let mut slot = inner
                .in_flight
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            inner.remember_outcome(&outcome);
            if slot.as_ref().is_some_and(|(n, _)| *n == number) {
                *slot = None;
            }
            outcome
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let task = handle.spawn(work);
                async move {
                    task.await
                        .unwrap_or_else(|_| Err(Arc::new(Error::Cancelled)))
                }
                .boxed()
                .shared()
            }
            // No runtime to detach onto: run inside the caller (nothing can cancel it then
            // but the caller itself).
            Err(_) => work.boxed().shared(),
        }
    }

    fn remember_outcome(&self, outcome: &std::result::Result<TokenSet, Arc<Error>>) {
        let mut last = self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *last = match outcome {
            Err(e) if e.is_transient() => Some((self.time.now_ms(), Arc::clone(e))),
            _ => None,
        };
    }

    fn recent_failure(&self, now: u64) -> Option<Arc<Error>> {
        let last = self
            .last_failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        last.as_ref()
            .filter(|(at, _)| now.saturating_sub(*at) < FAILED_REFRESH_HOLD_MS)
            .map(|(_, e)| Arc::clone(e))
    }

    // ----- the critical section --------------------------------------------------------------

    /// Store lock → re-read → decide → refresh → save, in that order, whoever waits.
    async fn critical_section(self: &Arc<Self>, request: Request) -> Result<TokenSet> {
        let _exclusive = self.exclusive.lock().await;
        let _window = Window::open(self);
        let now = self.time.now_ms();
        let guard = self.lock_store().await?;
        let stored = self.load_store().await?;

        if let Some(tokens) = self.exchange_verifier_once(&stored, &request).await? {
            return self.adopt_and_save(tokens, &guard, None, None).await;
        }
        let current = self.current_tokens();
        let (candidate, refresh_first) = self.candidate(&current, &stored);
        if let Some(c) = &candidate
            && !request.force
            && !refresh_first
        {
            let failed = request
                .failed
                .as_ref()
                .is_some_and(|f| c.access_token.ct_eq(f));
            let due = self.due_at(c).is_some_and(|d| now >= d);
            if !failed && !due && !c.access_token.is_empty() {
                return match current.as_ref().and_then(|cur| cur.unsaved) {
                    // FS-3 retry: the in-memory tokens are newer than the file.
                    Some(unsaved) => {
                        self.adopt_and_save(c.clone(), &guard, None, Some(unsaved))
                            .await
                    }
                    None => Ok(self.adopt_tokens(c.clone())),
                };
            }
        }
        let forced = request.failed.as_ref().map(|_| now);
        let unsaved = current.as_ref().and_then(|c| c.unsaved);
        match candidate.as_ref().and_then(|c| c.refresh_token.clone()) {
            Some(rt) => {
                if unsaved.is_none() {
                    self.check_not_stale(&stored)?;
                }
                let ctx = RefreshContext {
                    guard: &guard,
                    stored: &stored,
                    candidate: candidate.as_ref(),
                    request: &request,
                    forced,
                    now,
                };
                self.refresh_with(&rt, &ctx).await
            }
            None => {
                self.without_refresh_token(candidate, &request, &guard, now)
                    .await
            }
        }
    }

    /// The freshest tokens we know: unsaved ones in memory (FS-3), else what the store holds
    /// (another process may have refreshed, RT-9), else ours, else the given properties.
    fn candidate(&self, current: &Option<Current>, stored: &Stored) -> (Option<TokenSet>, bool) {
        if let Some(c) = current
            && c.unsaved.is_some()
        {
            return (Some(c.tokens.clone()), false);
        }
        let from_store = stored
            .as_ref()
            .map(record_tokens)
            .filter(|t| !t.access_token.is_empty() || t.refresh_token.is_some());
        if let Some(t) = from_store.or_else(|| current.as_ref().map(|c| c.tokens.clone())) {
            return (Some(t), false);
        }
        match &self.given {
            Some(g) => (Some(g.tokens.clone()), g.refresh_first),
            None => (None, false),
        }
    }

    /// Another process rotated the stored tokens but could not save them: their refresh token
    /// is used up, so say so instead of presenting it.
    fn check_not_stale(&self, stored: &Stored) -> Result<()> {
        let (Some(store), Some(record)) = (&self.store, stored) else {
            return Ok(());
        };
        match store.unsaved_mark() {
            Some(mark) if mark.covers(record.revision) => Err(Error::StaleSettings {
                location: store.location().to_string(),
                holder: Some(mark.pid),
                holder_running: mark.holder_running(),
            }),
            _ => Ok(()),
        }
    }

    async fn refresh_with(
        self: &Arc<Self>,
        rt: &Secret,
        ctx: &RefreshContext<'_>,
    ) -> Result<TokenSet> {
        let redirect = self.callback_url.clone();
        self.request_out()?;
        match self
            .tokens
            .refresh(rt, redirect.as_deref(), REFRESH_ATTEMPTS)
            .await
        {
            Ok(tokens) => self.save_refreshed(tokens, rt, ctx).await,
            Err(e) if e.is_invalid_grant() => self.after_refused_refresh(rt, e, ctx, None).await,
            Err(e)
                if self.tokens.provider.single_use_refresh_tokens
                    && e.is_transient()
                    && !e.is_safe_to_replay() =>
            {
                self.after_lost_answer(rt, e, ctx).await
            }
            Err(e) if e.is_transient() => self.keep_valid_token(e, ctx),
            Err(e) => Err(e),
        }
    }

    async fn save_refreshed(
        &self,
        mut tokens: TokenSet,
        used: &Secret,
        ctx: &RefreshContext<'_>,
    ) -> Result<TokenSet> {
        // Keep the old refresh token when none comes back (TR-12).
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(used.clone());
        }
        let stale_revision = ctx.stored.as_ref().map_or(0, |r| r.revision);
        self.adopt_and_save(
            tokens,
            ctx.guard,
            ctx.forced,
            Some(Unsaved { stale_revision }),
        )
        .await
    }

    /// TE-14: the provider may have acted on the refresh (lost answer, server error), so the
    /// single-use refresh token is not replayed blindly. Re-read the store under the lock; if
    /// nobody stored a newer pair, send the token once more as a guarded probe: a provider that
    /// did rotate refuses it (and the pair it issued was lost with the answer either way), one
    /// that did not answers normally.
    async fn after_lost_answer(
        self: &Arc<Self>,
        rt: &Secret,
        lost: Error,
        ctx: &RefreshContext<'_>,
    ) -> Result<TokenSet> {
        tracing::warn!(error = %lost, "the answer to a token refresh was lost; checking the store before trying again");
        if let Some(disk) = self.load_store().await?.map(|r| record_tokens(&r))
            && disk.refresh_token.as_ref().is_some_and(|d| !d.ct_eq(rt))
        {
            return Ok(self.adopt_tokens(disk));
        }
        let redirect = self.callback_url.clone();
        match self.tokens.refresh_once(rt, redirect.as_deref()).await {
            Ok(tokens) => self.save_refreshed(tokens, rt, ctx).await,
            Err(e) if e.is_invalid_grant() => {
                self.after_refused_refresh(rt, e, ctx, Some(lost)).await
            }
            Err(e) if e.is_transient() => self.keep_valid_token(e, ctx),
            Err(e) => Err(e),
        }
    }

    /// RT-11 / RT-2: keep serving a still-valid token and try again later; else the error.
    fn keep_valid_token(&self, e: Error, ctx: &RefreshContext<'_>) -> Result<TokenSet> {
        let valid = ctx
            .candidate
            .filter(|c| !is_expired(c, ctx.now) && ctx.request.failed.is_none());
        match valid {
            Some(valid) => {
                tracing::warn!(error = %e, "proactive token refresh failed; using the still-valid token");
                let tokens = valid.clone();
                self.adopt_tokens(tokens.clone());
                if let Some(cur) = self.lock_current().as_mut() {
                    cur.retry_not_before_ms = ctx.now + RETRY_AFTER_FAILED_REFRESH_MS;
                }
                Ok(tokens)
            }
            None => Err(e),
        }
    }

    /// The provider refused the refresh token. Adopt a newer one from disk (RT-10), re-grant
    /// with the password (once, TE-16), or explain precisely what happened.
    async fn after_refused_refresh(
        self: &Arc<Self>,
        rt: &Secret,
        refused: Error,
        ctx: &RefreshContext<'_>,
        lost: Option<Error>,
    ) -> Result<TokenSet> {
        if let Some(disk) = self.load_store().await?.map(|r| record_tokens(&r))
            && let Some(disk_rt) = disk.refresh_token.clone().filter(|d| !d.ct_eq(rt))
        {
            // RT-10: another process rotated the token after our read: use its pair, refreshing
            // with its refresh token if its access token has expired too.
            if !is_expired(&disk, ctx.now) {
                return Ok(self.adopt_tokens(disk));
            }
            let redirect = self.callback_url.clone();
            let tokens = self
                .tokens
                .refresh(&disk_rt, redirect.as_deref(), REFRESH_ATTEMPTS)
                .await?;
            return self.save_refreshed(tokens, &disk_rt, ctx).await;
        }
        if matches!(self.grant, Grant::Password { .. }) && self.initiate != InitiateOAuth::Off {
            // One re-grant per failure, never a loop (TE-16).
            let tokens = self.initial_grant().await?;
            return self
                .adopt_and_save(tokens, ctx.guard, ctx.forced, None)
                .await;
        }
        Err(self.refused_error(&refused, lost.as_ref()))
    }

    fn refused_error(&self, refused: &Error, lost: Option<&Error>) -> Error {
        let name = &self.tokens.provider.name;
        let reason = match lost {
            Some(lost) => format!(
                "the answer to a token refresh was lost ({}), after which {name} refused the stored refresh token ({}): {name} had rotated it, and its refresh tokens work once, so the new pair was lost with the answer",
                brief(lost),
                brief(refused)
            ),
            None if self.tokens.provider.single_use_refresh_tokens => format!(
                "{name} refused the stored refresh token ({}); {name} refresh tokens work once, so it was used already — by another program or by a copy of this settings file (move settings files, don't copy them)",
                brief(refused)
            ),
            None => format!("{name} refused the refresh token ({})", brief(refused)),
        };
        Error::ReauthorizationRequired {
            reason,
            location: self.location_text(),
            command: Some(self.command_name()),
        }
    }

    async fn without_refresh_token(
        self: &Arc<Self>,
        candidate: Option<TokenSet>,
        request: &Request,
        guard: &Option<StoreLock>,
        now: u64,
    ) -> Result<TokenSet> {
        if let Some(c) = candidate.filter(|c| !is_expired(c, now) && request.failed.is_none()) {
            // No refresh token but still valid: use it until it expires.
            return Ok(self.adopt_tokens(c));
        }
        match self.initiate {
            InitiateOAuth::GetAndRefresh => {
                let tokens = self.initial_grant().await?;
                let forced = request.failed.as_ref().map(|_| now);
                self.adopt_and_save(tokens, guard, forced, None).await
            }
            InitiateOAuth::Refresh | InitiateOAuth::Off => Err(Error::ReauthorizationRequired {
                reason: "no usable OAuth tokens, and InitiateOAuth=REFRESH never prompts: set OAuthVerifier (headless), OAuthAccessToken and OAuthRefreshToken, or use InitiateOAuth=GETANDREFRESH".to_owned(),
                location: self.location_text(),
                command: Some(self.command_name()),
            }),
        }
    }

    /// Headless option 1: exchange OAuthVerifier once; later connections use the store.
    async fn exchange_verifier_once(
        &self,
        stored: &Stored,
        request: &Request,
    ) -> Result<Option<TokenSet>> {
        let Some(v) = &self.verifier else {
            return Ok(None);
        };
        let already = stored
            .as_ref()
            .and_then(|r| r.extras.get("verifier_sha256"))
            .is_some_and(|d| *d == verifier_digest(v));
        if already || request.failed.is_some() || self.initiate == InitiateOAuth::Off {
            return Ok(None);
        }
        self.exchange_verifier(v, stored).await.map(Some)
    }

    /// Exchanges a verifier (bare code or callback URL). The PKCE verifier of the two-step
    /// flows is derived from the state; a bare code carries none, so the state the
    /// authorization URL was made with is taken from the store (`GetOAuthAuthorizationURL`
    /// keeps it there).
    pub(crate) async fn exchange_verifier(
        &self,
        verifier: &Secret,
        stored: &Stored,
    ) -> Result<TokenSet> {
        let callback = self.callback_url.clone().ok_or_else(|| Error::InvalidConfiguration {
            property: "CallbackURL",
            message: "exchanging OAuthVerifier needs the same redirect URI the authorization URL used; set CallbackURL".to_owned(),
        })?;
        if self.store.is_none() {
            return Err(Error::InvalidConfiguration {
                property: "OAuthSettingsLocation",
                message: "OAuthVerifier is exchanged once and the tokens are kept there; set OAuthSettingsLocation".to_owned(),
            });
        }
        let (code, state) = crate::parse_verifier(verifier)?;
        let state = state.or_else(|| {
            stored
                .as_ref()
                .and_then(|r| r.secret_extras.get(crate::PENDING_STATE))
                .map(|s| s.expose().to_owned())
        });
        let pkce = match (
            &state,
            &self.tokens.client.secret,
            self.tokens.provider.pkce,
        ) {
            (Some(state), Some(secret), true) => Some(crate::pkce::derived_verifier(secret, state)),
            _ => None,
        };
        self.request_out()?;
        self.tokens
            .exchange_code(&code, &callback, pkce.as_ref())
            .await
            .map_err(code_error)
    }

    /// Password grant or desktop browser flow.
    pub(crate) async fn initial_grant(&self) -> Result<TokenSet> {
        match &self.grant {
            Grant::Password { user, password } => {
                let scope = self.scopes.join(" ");
                self.request_out()?;
                self.tokens.password(user, password, &scope).await
            }
            Grant::AuthorizationCode => crate::authenticator::desktop_flow(self).await,
        }
    }

    /// Marks a token request as out until the critical section ends (after its save), so that
    /// a stopping program waits for it; refuses once the program is stopping.
    pub(crate) fn request_out(&self) -> Result<()> {
        let mut slot = self
            .request_out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            *slot = Some(PendingGuard::begin()?);
        }
        Ok(())
    }

    // ----- state -----------------------------------------------------------------------------

    pub(crate) fn lock_current(&self) -> MutexGuard<'_, Option<Current>> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn current_tokens(&self) -> Option<Current> {
        self.lock_current().clone()
    }

    pub(crate) fn location_text(&self) -> Option<String> {
        self.store.as_ref().map(|s| s.location().to_string())
    }

    /// The source's CLI name (`acton`, `hubdb`), for advice in messages.
    pub(crate) fn command_name(&self) -> String {
        self.tokens
            .provider
            .source
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    }

    /// The refresh deadline of a token set: expiry − min(margin, lifetime/2) − jitter.
    pub(crate) fn due_at(&self, tokens: &TokenSet) -> Option<u64> {
        let expires_at = tokens.expires_at_ms()?;
        let lifetime_ms = tokens.expires_in.unwrap_or(0).saturating_mul(1000);
        let margin = self.margin_ms.min(lifetime_ms / 2);
        let jitter_cap = self.jitter_ms.min(margin / 2);
        let jitter = if jitter_cap == 0 {
            0
        } else {
            // Deterministic per token (same token → same deadline in every process), spread
            // across tokens.
            let digest = ring::digest::digest(
                &ring::digest::SHA256,
                tokens.access_token.expose().as_bytes(),
            );
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest.as_ref()[..8]);
            u64::from_le_bytes(bytes) % (jitter_cap + 1)
        };
        Some(expires_at.saturating_sub(margin).saturating_sub(jitter))
    }

    pub(crate) fn is_due(&self, current: &Current, now: u64) -> bool {
        current.tokens.access_token.is_empty()
            || (current.due_at_ms.is_some_and(|due| now >= due)
                && now >= current.retry_not_before_ms)
    }

    // ----- the store, off the async threads --------------------------------------------------

    /// Runs a store operation on the blocking pool: key derivation (PBKDF2), file reads,
    /// fsyncs and lock waits must not stall the async runtime's threads.
    async fn blocking<T: Send + 'static>(
        &self,
        op: impl FnOnce(&dyn TokenStore) -> token_store::Result<T> + Send + 'static,
    ) -> Result<Option<T>> {
        let Some(store) = self.store.clone() else {
            return Ok(None);
        };
        let result = match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(move || op(store.as_ref()))
                .await
                .map_err(|_| Error::Cancelled)?,
            Err(_) => op(store.as_ref()),
        };
        Ok(Some(result?))
    }

    pub(crate) async fn lock_store(&self) -> Result<Option<StoreLock>> {
        let timeout = self.lock_timeout;
        self.blocking(move |store| store.lock(timeout)).await
    }

    /// The stored record, if any; an error when it belongs to another OAuth client.
    pub(crate) async fn load_store(&self) -> Result<Stored> {
        let record = self.blocking(|store| store.try_load()).await?.flatten();
        if let (Some(r), Some(store)) = (&record, &self.store)
            && let Some(stored_client_id) = r
                .client_id
                .clone()
                .filter(|id| *id != self.tokens.client.id)
        {
            return Err(Error::TokensOfAnotherClient {
                location: store.location().to_string(),
                stored_client_id,
                client_id: self.tokens.client.id.clone(),
            });
        }
        Ok(record)
    }

    fn record_for(&self, tokens: &TokenSet) -> TokenRecord {
        let mut record = TokenRecord::new(
            self.tokens.provider.source.clone(),
            match self.grant {
                Grant::Password { .. } => "OAuthPassword",
                Grant::AuthorizationCode => "OAuth",
            },
            tokens.access_token.clone(),
        );
        record.refresh_token = tokens.refresh_token.clone();
        record.token_type = tokens.token_type.clone();
        record.set_expiry(tokens.obtained_at_ms, tokens.expires_in);
        record.client_id = Some(self.tokens.client.id.clone());
        record.scope = tokens.scope.clone();
        if let Some(v) = &self.verifier {
            record
                .extras
                .insert("verifier_sha256".to_owned(), verifier_digest(v));
        }
        record
    }

    /// Makes `tokens` current and writes them to the store (the caller holds its lock).
    ///
    /// FS-3: when the write fails the old file is intact; the new tokens stay current and
    /// marked unsaved (saved again on every later use and on drop), and the store records that
    /// its refresh token is used up (`stale` names the revision it came from).
    pub(crate) async fn adopt_and_save(
        &self,
        tokens: TokenSet,
        guard: &Option<StoreLock>,
        forced_at_ms: Option<u64>,
        stale: Option<Unsaved>,
    ) -> Result<TokenSet> {
        self.warn_if_scope_narrowed(&tokens);
        let mut unsaved = None;
        if guard.is_some() {
            let record = self.record_for(&tokens);
            match self.blocking(move |store| store.save(&record)).await {
                Ok(_) => {}
                Err(Error::Store(e)) if e.is_not_persisted() => {
                    tracing::warn!(error = %e, "new OAuth tokens could not be saved; keeping them in memory and retrying on every use");
                    let stale = stale.unwrap_or(Unsaved { stale_revision: 0 });
                    let revision = stale.stale_revision;
                    if let Err(mark) = self
                        .blocking(move |store| store.mark_unsaved(revision))
                        .await
                    {
                        tracing::warn!(error = %mark, "could not mark the settings file as out of date either");
                    }
                    unsaved = Some(stale);
                }
                Err(e) => return Err(e),
            }
        }
        let due_at_ms = self.due_at(&tokens);
        *self.lock_current() = Some(Current {
            tokens: tokens.clone(),
            due_at_ms,
            unsaved,
            retry_not_before_ms: 0,
            forced_at_ms,
        });
        Ok(tokens)
    }

    /// TR-14: the provider granted less than we asked for; later calls may fail with 403.
    fn warn_if_scope_narrowed(&self, tokens: &TokenSet) {
        let Some(granted) = &tokens.scope else { return };
        if !self.tokens.provider.granted_scope_names_requested {
            return;
        }
        let missing = missing_scopes(&self.scopes, granted);
        if !missing.is_empty() {
            tracing::warn!(missing = %missing.join(" "), "the provider granted fewer scopes than requested");
        }
    }

    pub(crate) fn adopt_without_saving(&self, tokens: TokenSet) -> Secret {
        self.adopt_tokens(tokens).access_token
    }

    fn adopt_tokens(&self, tokens: TokenSet) -> TokenSet {
        let due_at_ms = self.due_at(&tokens);
        *self.lock_current() = Some(Current {
            tokens: tokens.clone(),
            due_at_ms,
            unsaved: None,
            retry_not_before_ms: 0,
            forced_at_ms: None,
        });
        tokens
    }

    /// Saves unsaved tokens synchronously (the last chance, when the authenticator goes away).
    fn save_unsaved_now(&self) {
        let Some(store) = &self.store else { return };
        let Some(current) = self.current_tokens().filter(|c| c.unsaved.is_some()) else {
            return;
        };
        let record = self.record_for(&current.tokens);
        let saved = store
            .lock(Duration::from_secs(5))
            .and_then(|_guard| store.save(&record));
        match saved {
            Ok(_) => tracing::info!("unsaved OAuth tokens were saved on shutdown"),
            Err(e) => {
                tracing::error!(error = %e, "OAuth tokens rotated by this process could not be saved before it stopped; log in again next time")
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.save_unsaved_now();
    }
}

/// What the refresh paths need to know about the call that led to them.
struct RefreshContext<'a> {
    guard: &'a Option<StoreLock>,
    stored: &'a Stored,
    candidate: Option<&'a TokenSet>,
    request: &'a Request,
    forced: Option<u64>,
    now: u64,
}

pub(crate) fn is_expired(tokens: &TokenSet, now: u64) -> bool {
    tokens.access_token.is_empty() || tokens.expires_at_ms().is_some_and(|at| now >= at)
}

/// The requested scopes a grant's `scope` (space- or comma-separated) does not include.
fn missing_scopes<'a>(requested: &'a [String], granted: &str) -> Vec<&'a str> {
    let granted: Vec<&str> = granted.split([' ', ',']).collect();
    requested
        .iter()
        .map(String::as_str)
        .filter(|s| !granted.contains(s))
        .collect()
}

/// The part of a token-endpoint error worth repeating inside another message.
fn brief(e: &Error) -> String {
    match e.inner() {
        Error::TokenEndpoint {
            status,
            error,
            description,
            ..
        } => {
            let mut text = format!("HTTP {status}");
            if let Some(error) = error {
                text.push(' ');
                text.push_str(error);
            }
            if let Some(description) = description {
                text.push_str(": ");
                text.push_str(description);
            }
            text
        }
        Error::AnswerLost { url, message } | Error::Transport { url, message } => {
            format!("{message}, {url}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tr_14_a_narrower_granted_scope_is_noticed() {
        let requested = ["hubdb".to_owned(), "oauth".to_owned()];
        assert!(missing_scopes(&requested, "oauth hubdb extra").is_empty());
        assert!(missing_scopes(&requested, "hubdb,oauth").is_empty());
        assert_eq!(missing_scopes(&requested, "oauth"), ["hubdb"]);
    }
}
