//! The `InitiateOAuth` modes over a provider, with safe refresh.
//!
//! Refresh is single-flight inside a process (one task refreshes, the others wait and take its
//! result) and serialised across processes by the token store's lock: under the lock the store
//! is re-read, and the refresh happens only if the token there is still stale; the new tokens
//! are written before the lock is released. Act-On refresh tokens are single-use, so this is what
//! keeps several processes sharing one `OAuthSettingsLocation` from locking the user out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connstr::Secret;
use connstr::validate::{CommonConfig, InitiateOAuth};
use token_store::{KeyConfig, Location, StoreLock, TokenRecord, TokenStore};
use url::Url;

use crate::grants::{ClientCredentials, TokenClient};
use crate::http::{self, HttpSettings};
use crate::provider::Provider;
use crate::time::{SharedTimeSource, system_time};
use crate::token::TokenSet;
use crate::{BoxFuture, Error, Result, SharedTokenProvider, StaticTokenProvider, TokenProvider};

/// Refresh this long before expiry (capped at half the lifetime, CLK-4).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Up to this much extra, random per token, so that many clients don't refresh in step.
pub const DEFAULT_REFRESH_JITTER: Duration = Duration::from_secs(30);
/// How long to wait for another process holding the store's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the desktop flow waits for the user in the browser.
pub const DEFAULT_BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
/// After a failed proactive refresh, keep using the valid token this long before trying again.
const RETRY_AFTER_FAILED_REFRESH_MS: u64 = 30_000;
/// Tries for a refresh that fails with a transient error.
const REFRESH_ATTEMPTS: u32 = 3;

/// How a token is first obtained when there is none.
#[derive(Debug, Clone)]
pub enum Grant {
    /// The authorization-code flow (desktop browser, or a verifier exchange).
    AuthorizationCode,
    /// The resource-owner password grant (Act-On `AuthScheme=OAuthPassword`).
    Password {
        /// The user name.
        user: String,
        /// The password; never stored.
        password: Secret,
    },
}

/// The stored token's state, without secrets (for `connector <source> status`).
#[derive(Debug, Clone)]
pub struct TokenStatus {
    /// Where the tokens live.
    pub location: Option<String>,
    /// Whether an access token is stored or given.
    pub has_access_token: bool,
    /// Whether a refresh token is available.
    pub has_refresh_token: bool,
    /// Granted scope.
    pub scope: Option<String>,
    /// When the token was obtained (Unix ms).
    pub obtained_at_ms: Option<u64>,
    /// When it expires (Unix ms), when known.
    pub expires_at_ms: Option<u64>,
    /// The store's revision counter.
    pub revision: Option<u64>,
}

/// Gets and refreshes tokens per `InitiateOAuth`; a [`TokenProvider`].
///
/// ```no_run
/// # async fn run(provider: auth_core::provider::Provider, common: connstr::validate::CommonConfig) -> auth_core::Result<()> {
/// use auth_core::{Authenticator, Grant, TokenProvider};
/// let auth = Authenticator::from_config(provider, &common, Grant::AuthorizationCode)?;
/// let token = auth.access_token().await?; // opens the browser the first time (GETANDREFRESH)
/// # let _ = token; Ok(()) }
/// ```
#[derive(Debug)]
pub struct Authenticator {
    tokens: TokenClient,
    initiate: InitiateOAuth,
    grant: Grant,
    scopes: Vec<String>,
    callback_url: Option<String>,
    verifier: Option<Secret>,
    given: Option<Given>,
    store: Option<Arc<dyn TokenStore>>,
    lock_timeout: Duration,
    browser_timeout: Duration,
    browser: Option<String>,
    margin_ms: u64,
    jitter_ms: u64,
    time: SharedTimeSource,
    flight: tokio::sync::Mutex<()>,
    current: Mutex<Option<Current>>,
}

/// Tokens given as connection properties.
#[derive(Debug, Clone)]
struct Given {
    tokens: TokenSet,
    /// No OAuthExpiresIn/OAuthTokenTimestamp: refresh before first use.
    refresh_first: bool,
}

#[derive(Debug, Clone)]
struct Current {
    tokens: TokenSet,
    due_at_ms: Option<u64>,
    /// Tokens that could not be written yet (FS-3): retried on the next refresh.
    dirty: bool,
    /// Set when a refresh failed transiently while the token was still valid (RT-11).
    retry_not_before_ms: u64,
    /// When this token came from a refresh forced by a 401 (RT-12 loop guard).
    forced_at_ms: Option<u64>,
}

/// Builds an [`Authenticator`]; [`Authenticator::from_config`] covers the usual case.
#[derive(Debug)]
pub struct AuthenticatorBuilder {
    provider: Provider,
    client: Option<ClientCredentials>,
    initiate: InitiateOAuth,
    grant: Grant,
    scopes: Option<Vec<String>>,
    callback_url: Option<String>,
    verifier: Option<Secret>,
    given: Option<Given>,
    store: Option<Arc<dyn TokenStore>>,
    http: HttpSettings,
    lock_timeout: Duration,
    browser_timeout: Duration,
    browser: Option<String>,
    margin: Duration,
    jitter: Duration,
    time: SharedTimeSource,
}

impl AuthenticatorBuilder {
    /// Sets the OAuth app's credentials.
    pub fn client(mut self, id: impl Into<String>, secret: Option<Secret>) -> Self {
        self.client = Some(ClientCredentials {
            id: id.into(),
            secret,
        });
        self
    }

    /// Sets the `InitiateOAuth` mode.
    pub fn initiate(mut self, mode: InitiateOAuth) -> Self {
        self.initiate = mode;
        self
    }

    /// Sets how a first token is obtained.
    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        self
    }

    /// Overrides the provider's default scopes.
    pub fn scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// The redirect URI (CallbackURL), sent exactly as given.
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// An authorization code (or callback URL) to exchange (headless option 1).
    pub fn verifier(mut self, verifier: Secret) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Tokens given as properties; without `expires_in`/`obtained_at_ms` they are refreshed
    /// before first use.
    pub fn given_tokens(
        mut self,
        access: Option<Secret>,
        refresh: Option<Secret>,
        expires_in: Option<i64>,
        obtained_at_ms: Option<i64>,
    ) -> Self {
        let Some(access_token) = access.or_else(|| refresh.as_ref().map(|_| Secret::default()))
        else {
            return self;
        };
        let refresh_first =
            expires_in.is_none() || obtained_at_ms.is_none() || access_token.is_empty();
        self.given = Some(Given {
            tokens: TokenSet {
                access_token,
                refresh_token: refresh,
                token_type: "Bearer".to_owned(),
                expires_in: expires_in.and_then(|s| u64::try_from(s).ok()),
                obtained_at_ms: obtained_at_ms
                    .and_then(|t| u64::try_from(t).ok())
                    .unwrap_or(0),
                scope: None,
            },
            refresh_first,
        });
        self
    }

    /// Persists tokens in this store.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Network settings.
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// How long to wait for the store's lock.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How long the desktop flow waits for the browser.
    pub fn browser_timeout(mut self, timeout: Duration) -> Self {
        self.browser_timeout = timeout;
        self
    }

    /// The browser command for the desktop flow (as the `BROWSER` variable: `%s` is the URL, else
    /// it is appended); default: `BROWSER`, then the platform opener.
    pub fn browser_command(mut self, command: impl Into<String>) -> Self {
        self.browser = Some(command.into());
        self
    }

    /// Refresh margin and maximum jitter.
    pub fn refresh_margin(mut self, margin: Duration, jitter: Duration) -> Self {
        self.margin = margin;
        self.jitter = jitter;
        self
    }

    /// The clock (tests inject a manual one).
    pub fn time_source(mut self, time: SharedTimeSource) -> Self {
        self.time = time;
        self
    }

    /// Builds the authenticator.
    pub fn build(self) -> Result<Authenticator> {
        let client = self.client.ok_or_else(|| Error::InvalidConfiguration {
            property: "OAuthClientId",
            message: format!(
                "{} needs the OAuth app's client id (and OAuthClientSecret)",
                self.provider.name
            ),
        })?;
        let http = http::client(&self.http)?;
        let scopes = self
            .scopes
            .unwrap_or_else(|| self.provider.default_scopes.clone());
        Ok(Authenticator {
            tokens: TokenClient::new(self.provider, client, http, self.time.clone()),
            initiate: self.initiate,
            grant: self.grant,
            scopes,
            callback_url: self.callback_url,
            verifier: self.verifier,
            given: self.given,
            store: self.store,
            lock_timeout: self.lock_timeout,
            browser_timeout: self.browser_timeout,
            browser: self.browser,
            margin_ms: u64::try_from(self.margin.as_millis()).unwrap_or(u64::MAX),
            jitter_ms: u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX),
            time: self.time,
            flight: tokio::sync::Mutex::new(()),
            current: Mutex::new(None),
        })
    }
}

/// The token provider a connection should use: a static token for `InitiateOAuth=OFF`, an
/// [`Authenticator`] otherwise.
pub fn authenticator_for(
    provider: Provider,
    common: &CommonConfig,
    grant: Grant,
) -> Result<SharedTokenProvider> {
    if common.initiate_oauth == InitiateOAuth::Off && !matches!(grant, Grant::Password { .. }) {
        let token = common
            .oauth_access_token
            .clone()
            .ok_or_else(|| Error::InvalidConfiguration {
                property: "OAuthAccessToken",
                message: "InitiateOAuth=OFF uses the access token you give: set OAuthAccessToken, or use InitiateOAuth=GETANDREFRESH (login flow) or REFRESH (stored tokens)".to_owned(),
            })?;
        return Ok(Arc::new(StaticTokenProvider::access_token_off(token)));
    }
    Ok(Arc::new(Authenticator::from_config(
        provider, common, grant,
    )?))
}

/// Opens the token store a configuration names (`OAuthSettingsLocation`, or the CData default
/// path when `required`), with the key file or `OAuthSettingsPassphrase`.
pub fn store_for(
    source: &str,
    common: &CommonConfig,
    required: bool,
) -> Result<Option<Arc<dyn TokenStore>>> {
    let location = match &common.oauth_settings_location {
        Some(text) => Location::parse(text)?,
        None if required => Location::default_for_source(source)?,
        None => return Ok(None),
    };
    let keys = KeyConfig::from_env(common.oauth_settings_passphrase.clone());
    Ok(Some(token_store::open_store(&location, keys)))
}

impl Authenticator {
    /// A builder for `provider`.
    pub fn builder(provider: Provider) -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            provider,
            client: None,
            initiate: InitiateOAuth::GetAndRefresh,
            grant: Grant::AuthorizationCode,
            scopes: None,
            callback_url: None,
            verifier: None,
            given: None,
            store: None,
            http: HttpSettings::default(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            browser_timeout: DEFAULT_BROWSER_TIMEOUT,
            browser: None,
            margin: DEFAULT_REFRESH_MARGIN,
            jitter: DEFAULT_REFRESH_JITTER,
            time: system_time(),
        }
    }

    /// The authenticator a validated connection configuration describes.
    pub fn from_config(provider: Provider, common: &CommonConfig, grant: Grant) -> Result<Self> {
        let persist = common.initiate_oauth != InitiateOAuth::Off;
        let mut builder = Self::builder(provider)
            .initiate(common.initiate_oauth)
            .grant(grant)
            .http(HttpSettings::from_config(common))
            .given_tokens(
                common.oauth_access_token.clone(),
                common.oauth_refresh_token.clone(),
                common.oauth_expires_in,
                common.oauth_token_timestamp,
            );
        if let Some(id) = &common.oauth_client_id {
            builder = builder.client(id.clone(), common.oauth_client_secret.clone());
        }
        if let Some(scope) = &common.scope {
            builder = builder.scopes(
                scope
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        if let Some(cb) = &common.callback_url {
            builder = builder.callback_url(cb.clone());
        }
        if let Some(v) = &common.oauth_verifier {
            builder = builder.verifier(v.clone());
        }
        let required = common.initiate_oauth == InitiateOAuth::GetAndRefresh;
        if persist
            && let Some(store) = store_for(&builder.provider.source.clone(), common, required)?
        {
            builder = builder.store(store);
        }
        builder.build()
    }

    /// The token store, if tokens persist.
    pub fn store(&self) -> Option<&Arc<dyn TokenStore>> {
        self.store.as_ref()
    }

    fn location_text(&self) -> Option<String> {
        self.store.as_ref().map(|s| s.location().to_string())
    }

    /// Runs the configured first-time flow now (browser, verifier exchange or password grant)
    /// and stores the tokens, even if valid tokens are stored (`connector <source> login`).
    pub async fn login(&self) -> Result<TokenStatus> {
        let _flight = self.flight.lock().await;
        let guard = self.lock_store().await?;
        let tokens = match &self.verifier {
            Some(v) => self.exchange_verifier(v).await?,
            None => self.initial_grant().await?,
        };
        self.adopt_and_save(tokens, guard.is_some(), None)?;
        drop(guard);
        self.status().await
    }

    /// Runs the first-time flow (desktop browser or password grant) and returns the tokens
    /// without storing them (the `GetOAuthAccessToken` procedure in APP mode).
    pub async fn obtain_new_tokens(&self) -> Result<TokenSet> {
        self.initial_grant().await
    }

    /// The token endpoint client (code exchange, refresh) of this configuration.
    pub fn token_client(&self) -> &TokenClient {
        &self.tokens
    }

    /// The scopes this configuration requests.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// What is stored, without secrets.
    pub async fn status(&self) -> Result<TokenStatus> {
        let record = self.load_store()?;
        let current = self.current_tokens();
        let tokens = record
            .as_ref()
            .map(record_tokens)
            .or_else(|| current.map(|c| c.tokens))
            .or_else(|| self.given.as_ref().map(|g| g.tokens.clone()));
        Ok(TokenStatus {
            location: self.location_text(),
            has_access_token: tokens.as_ref().is_some_and(|t| !t.access_token.is_empty()),
            has_refresh_token: tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()),
            scope: tokens.as_ref().and_then(|t| t.scope.clone()),
            obtained_at_ms: tokens.as_ref().map(|t| t.obtained_at_ms).filter(|t| *t > 0),
            expires_at_ms: tokens.as_ref().and_then(TokenSet::expires_at_ms),
            revision: record.map(|r| r.revision),
        })
    }

    /// Deletes the stored tokens and revokes the refresh token where the provider allows it.
    /// Returns whether a revocation request was accepted.
    pub async fn logout(&self) -> Result<bool> {
        let _flight = self.flight.lock().await;
        let guard = self.lock_store().await?;
        let record = self.load_store()?;
        let mut revoked = false;
        if let (Some(template), Some(rt)) = (
            &self.tokens.provider.refresh_token_revocation_url,
            record.as_ref().and_then(|r| r.refresh_token.clone()),
        ) {
            let url = template.replace("{token}", rt.expose());
            if let Ok(url) = Url::parse(&url) {
                match self.tokens.http.delete(url).send().await {
                    Ok(resp) => revoked = resp.status().is_success(),
                    Err(_) => tracing::warn!("refresh token revocation request failed"),
                }
            }
        }
        if let Some(store) = &self.store {
            store.clear()?;
        }
        *self.lock_current() = None;
        drop(guard);
        Ok(revoked)
    }

    fn lock_current(&self) -> std::sync::MutexGuard<'_, Option<Current>> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn current_tokens(&self) -> Option<Current> {
        self.lock_current().clone()
    }

    /// The refresh deadline of a token set: expiry − min(margin, lifetime/2) − jitter.
    fn due_at(&self, tokens: &TokenSet) -> Option<u64> {
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

    fn is_due(&self, current: &Current, now: u64) -> bool {
        current.tokens.access_token.is_empty()
            || (current.due_at_ms.is_some_and(|due| now >= due)
                && now >= current.retry_not_before_ms)
    }

    fn is_expired(tokens: &TokenSet, now: u64) -> bool {
        tokens.access_token.is_empty() || tokens.expires_at_ms().is_some_and(|at| now >= at)
    }

    async fn lock_store(&self) -> Result<Option<StoreLock>> {
        let Some(store) = self.store.clone() else {
            return Ok(None);
        };
        let timeout = self.lock_timeout;
        let guard = tokio::task::spawn_blocking(move || store.lock(timeout))
            .await
            .map_err(|_| Error::Cancelled)??;
        Ok(Some(guard))
    }

    fn load_store(&self) -> Result<Option<TokenRecord>> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let record = store.try_load()?;
        Ok(record.filter(|r| {
            let ours = r.client_id.is_none() || r.client_id.as_deref() == Some(self.tokens.client.id.as_str());
            if !ours {
                tracing::warn!(location = %store.location(), "stored tokens belong to another OAuth client id; ignoring them");
            }
            ours
        }))
    }

    /// Makes `tokens` current and writes them to the store (the caller holds its lock).
    fn adopt_and_save(
        &self,
        tokens: TokenSet,
        locked: bool,
        forced_at_ms: Option<u64>,
    ) -> Result<()> {
        let mut dirty = false;
        if let (Some(store), true) = (&self.store, locked) {
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
            match store.save(&record) {
                Ok(_) => {}
                Err(e) if e.is_not_persisted() => {
                    // FS-3: the old file is intact; keep the new tokens in memory and retry the
                    // write on the next refresh rather than failing the caller's request.
                    tracing::warn!(error = %e, "new OAuth tokens could not be saved; keeping them in memory and retrying later");
                    dirty = true;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let due_at_ms = self.due_at(&tokens);
        *self.lock_current() = Some(Current {
            tokens,
            due_at_ms,
            dirty,
            retry_not_before_ms: 0,
            forced_at_ms,
        });
        Ok(())
    }

    fn adopt_without_saving(&self, tokens: TokenSet) -> Secret {
        let access = tokens.access_token.clone();
        let due_at_ms = self.due_at(&tokens);
        *self.lock_current() = Some(Current {
            tokens,
            due_at_ms,
            dirty: false,
            retry_not_before_ms: 0,
            forced_at_ms: None,
        });
        access
    }

    async fn obtain(&self, failed: Option<&Secret>) -> Result<Secret> {
        let now = self.time.now_ms();
        if failed.is_none()
            && let Some(c) = self.current_tokens()
            && !self.is_due(&c, now)
            && !c.dirty
        {
            return Ok(c.tokens.access_token);
        }
        let _flight = self.flight.lock().await;
        let now = self.time.now_ms();
        let current = self.current_tokens();
        if let Some(c) = &current {
            match failed {
                // RT-13: another task already replaced the token that failed.
                Some(f) if !c.tokens.access_token.ct_eq(f) => {
                    return Ok(c.tokens.access_token.clone());
                }
                // RT-12: the token from a forced refresh was refused too: stop.
                Some(_)
                    if c.forced_at_ms
                        .is_some_and(|t| now.saturating_sub(t) < 60_000) =>
                {
                    return Err(Error::ReauthorizationRequired {
                        reason: format!(
                            "{} refused a freshly refreshed token (revoked access?)",
                            self.tokens.provider.name
                        ),
                        location: self.location_text(),
                    });
                }
                None if !self.is_due(c, now) && !c.dirty => {
                    return Ok(c.tokens.access_token.clone());
                }
                _ => {}
            }
        }

        let guard = self.lock_store().await?;
        let stored = self.load_store()?.map(|r| record_tokens(&r));

        // Headless option 1: exchange OAuthVerifier once; later connections use the store.
        if let Some(v) = &self.verifier {
            let already = self
                .load_store()?
                .and_then(|r| r.extras.get("verifier_sha256").cloned())
                .is_some_and(|d| d == verifier_digest(v));
            if !already && failed.is_none() && self.initiate != InitiateOAuth::Off {
                let tokens = self.exchange_verifier(v).await?;
                let access = tokens.access_token.clone();
                self.adopt_and_save(tokens, guard.is_some(), None)?;
                return Ok(access);
            }
        }

        // The freshest candidate: what another process stored (RT-9), else ours, else given.
        // Unsaved tokens in memory (FS-3) are newer than the file.
        let mut candidate = match &current {
            Some(c) if c.dirty => Some(c.tokens.clone()),
            _ => stored
                .clone()
                .or_else(|| current.as_ref().map(|c| c.tokens.clone())),
        };
        let mut refresh_first = false;
        if candidate.is_none()
            && let Some(g) = &self.given
        {
            candidate = Some(g.tokens.clone());
            refresh_first = g.refresh_first;
        }
        if let Some(c) = &candidate {
            let due = self.due_at(c).is_some_and(|d| now >= d);
            let is_failed = failed.is_some_and(|f| c.access_token.ct_eq(f));
            let dirty = current.as_ref().is_some_and(|cur| cur.dirty);
            if !due && !is_failed && !refresh_first && !c.access_token.is_empty() && !dirty {
                return Ok(self.adopt_without_saving(c.clone()));
            }
            if dirty && !due && !is_failed {
                // FS-3 retry: the in-memory tokens are newer than the file.
                if let Some(cur) = current {
                    let access = cur.tokens.access_token.clone();
                    self.adopt_and_save(cur.tokens, guard.is_some(), cur.forced_at_ms)?;
                    return Ok(access);
                }
            }
        }

        let forced = failed.map(|_| now);
        match candidate.as_ref().and_then(|c| c.refresh_token.clone()) {
            Some(rt) => {
                let redirect = self.callback_url.clone();
                match self
                    .tokens
                    .refresh(&rt, redirect.as_deref(), REFRESH_ATTEMPTS)
                    .await
                {
                    Ok(mut tokens) => {
                        // Keep the old refresh token when none comes back.
                        if tokens.refresh_token.is_none() {
                            tokens.refresh_token = Some(rt);
                        }
                        let access = tokens.access_token.clone();
                        self.adopt_and_save(tokens, guard.is_some(), forced)?;
                        Ok(access)
                    }
                    Err(e) if e.is_invalid_grant() => {
                        // RT-10: a sibling may have rotated the token after our read.
                        if let Some(disk) = self.load_store()?.map(|r| record_tokens(&r))
                            && disk.refresh_token.as_ref().is_some_and(|d| !d.ct_eq(&rt))
                            && !Self::is_expired(&disk, now)
                        {
                            return Ok(self.adopt_without_saving(disk));
                        }
                        if self.initiate == InitiateOAuth::GetAndRefresh
                            && matches!(self.grant, Grant::Password { .. })
                        {
                            // One re-grant per failure, never a loop (TE-16).
                            let tokens = self.initial_grant().await?;
                            let access = tokens.access_token.clone();
                            self.adopt_and_save(tokens, guard.is_some(), forced)?;
                            return Ok(access);
                        }
                        let reason = if self.tokens.provider.single_use_refresh_tokens {
                            format!(
                                "{} refused the refresh token ({e}); it was probably already used by another copy of the settings file — move settings files, don't copy them",
                                self.tokens.provider.name
                            )
                        } else {
                            format!(
                                "{} refused the refresh token ({e})",
                                self.tokens.provider.name
                            )
                        };
                        Err(Error::ReauthorizationRequired {
                            reason,
                            location: self.location_text(),
                        })
                    }
                    Err(e) if e.is_transient() => {
                        // RT-11 / RT-2: keep serving a still-valid token, try again later.
                        match candidate.filter(|c| !Self::is_expired(c, now) && failed.is_none()) {
                            Some(valid) => {
                                tracing::warn!(error = %e, "proactive token refresh failed; using the still-valid token");
                                let access = self.adopt_without_saving(valid);
                                if let Some(cur) = self.lock_current().as_mut() {
                                    cur.retry_not_before_ms = now + RETRY_AFTER_FAILED_REFRESH_MS;
                                }
                                Ok(access)
                            }
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            None => {
                if let Some(c) = candidate.filter(|c| !Self::is_expired(c, now) && failed.is_none())
                {
                    // No refresh token but still valid: use it until it expires.
                    return Ok(self.adopt_without_saving(c));
                }
                match self.initiate {
                    InitiateOAuth::GetAndRefresh => {
                        let tokens = self.initial_grant().await?;
                        let access = tokens.access_token.clone();
                        self.adopt_and_save(tokens, guard.is_some(), forced)?;
                        Ok(access)
                    }
                    InitiateOAuth::Refresh | InitiateOAuth::Off => Err(Error::ReauthorizationRequired {
                        reason: "no usable OAuth tokens, and InitiateOAuth=REFRESH never prompts: set OAuthVerifier (headless), OAuthAccessToken and OAuthRefreshToken, or use InitiateOAuth=GETANDREFRESH".to_owned(),
                        location: self.location_text(),
                    }),
                }
            }
        }
    }

    /// Password grant or desktop browser flow.
    async fn initial_grant(&self) -> Result<TokenSet> {
        match &self.grant {
            Grant::Password { user, password } => {
                let scope = self.scopes.join(" ");
                self.tokens.password(user, password, &scope).await
            }
            Grant::AuthorizationCode => self.desktop_flow().await,
        }
    }

    /// The authorization URL for `redirect_uri` and `state`, with an S256 challenge when the
    /// provider takes PKCE.
    pub fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        pkce_verifier: Option<&Secret>,
    ) -> Url {
        authorization_url(
            &self.tokens.provider,
            &self.tokens.client.id,
            redirect_uri,
            &self.scopes,
            state,
            pkce_verifier,
        )
    }

    async fn desktop_flow(&self) -> Result<TokenSet> {
        let callback = self.callback_url.clone().ok_or_else(|| Error::InvalidConfiguration {
            property: "CallbackURL",
            message: "the browser flow needs the redirect URI registered with the OAuth app, e.g. CallbackURL=http://localhost:33333".to_owned(),
        })?;
        // bind_configured keeps CallbackURL byte for byte: `Url` would add a trailing `/`,
        // which HubSpot's exact redirect-URI match rejects.
        let listener = crate::callback::CallbackListener::bind_configured(&callback)
            .await?
            .with_provider(self.tokens.provider.name.clone());
        let redirect_uri = listener.redirect_uri();
        let state = crate::pkce::random_token();
        let verifier = self.tokens.provider.pkce.then(crate::pkce::random_token);
        let url = self.authorization_url(&redirect_uri, state.expose(), verifier.as_ref());
        let opened = match &self.browser {
            Some(command) => crate::browser::open_browser_with(url.as_str(), Some(command)),
            None => crate::browser::open_browser(url.as_str()),
        };
        if opened.is_err() {
            crate::browser::announce(url.as_str());
        }
        let result = listener.wait(&state, self.browser_timeout).await?;
        self.tokens
            .exchange_code(&result.code, &redirect_uri, verifier.as_ref())
            .await
            .map_err(code_error)
    }

    async fn exchange_verifier(&self, verifier: &Secret) -> Result<TokenSet> {
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
        let (code, state) = parse_verifier(verifier)?;
        // PKCE for the two-step flows is derived from the state and the client secret.
        let pkce = match (
            &state,
            &self.tokens.client.secret,
            self.tokens.provider.pkce,
        ) {
            (Some(state), Some(secret), true) => Some(crate::pkce::derived_verifier(secret, state)),
            _ => None,
        };
        self.tokens
            .exchange_code(&code, &callback, pkce.as_ref())
            .await
            .map_err(code_error)
    }
}

/// A code exchange refused with invalid_grant means the code is stale or used (HL-3), not
/// that a refresh token died.
fn code_error(e: Error) -> Error {
    if e.is_invalid_grant() {
        Error::ReauthorizationRequired {
            reason: format!(
                "the authorization code was refused ({e}); codes expire within minutes and work once — authorize again"
            ),
            location: None,
        }
    } else {
        e
    }
}

/// Accepts a bare code or a whole callback URL (HL-1); returns the code and the state, if any.
pub fn parse_verifier(verifier: &Secret) -> Result<(Secret, Option<String>)> {
    let text = verifier.expose().trim();
    if let Ok(url) = Url::parse(text)
        && url.query().is_some()
    {
        let mut code = None;
        let mut state = None;
        let mut error = None;
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "code" => code = Some(Secret::new(v.into_owned())),
                "state" => state = Some(v.into_owned()),
                "error" => error = Some(v.into_owned()),
                _ => {}
            }
        }
        if let Some(error) = error {
            return Err(Error::AccessDenied {
                provider: "the provider".to_owned(),
                description: error.chars().take(200).collect(),
            });
        }
        let code = code.ok_or_else(|| Error::InvalidConfiguration {
            property: "OAuthVerifier",
            message: "the callback URL has no code parameter".to_owned(),
        })?;
        return Ok((code, state));
    }
    if text.is_empty() {
        return Err(Error::InvalidConfiguration {
            property: "OAuthVerifier",
            message: "empty".to_owned(),
        });
    }
    Ok((Secret::new(text), None))
}

/// Builds an authorization URL (RFC 6749 §4.1.1 plus PKCE S256).
pub fn authorization_url(
    provider: &Provider,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
    state: &str,
    pkce_verifier: Option<&Secret>,
) -> Url {
    let mut url = provider.authorization_url.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", state);
        if let Some(v) = pkce_verifier {
            q.append_pair("code_challenge", &crate::pkce::challenge(v))
                .append_pair("code_challenge_method", "S256");
        }
    }
    url
}

fn verifier_digest(verifier: &Secret) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.expose().trim().as_bytes());
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        d.as_ref(),
    )
}

fn record_tokens(r: &TokenRecord) -> TokenSet {
    TokenSet {
        access_token: r.access_token.clone(),
        refresh_token: r.refresh_token.clone(),
        token_type: r.token_type.clone(),
        expires_in: r.expires_in,
        obtained_at_ms: r.obtained_at_ms,
        scope: r.scope.clone(),
    }
}

impl TokenProvider for Authenticator {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(self.obtain(None))
    }

    fn on_unauthorized<'a>(&'a self, failed: &'a Secret) -> BoxFuture<'a, Result<Secret>> {
        Box::pin(self.obtain(Some(failed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualTimeSource;

    fn authenticator(margin_s: u64, jitter_s: u64) -> Authenticator {
        let provider =
            Provider::new("P", "P", "https://p.example/a", "https://p.example/t").unwrap();
        Authenticator::builder(provider)
            .client("id", None)
            .refresh_margin(Duration::from_secs(margin_s), Duration::from_secs(jitter_s))
            .time_source(Arc::new(ManualTimeSource::new(0)))
            .build()
            .unwrap()
    }

    fn tokens(access: &str, obtained_at_ms: u64, expires_in: u64) -> TokenSet {
        TokenSet {
            access_token: Secret::new(access),
            refresh_token: None,
            token_type: "Bearer".into(),
            expires_in: Some(expires_in),
            obtained_at_ms,
            scope: None,
        }
    }

    #[test]
    fn clk_1_exactly_one_side_of_the_boundary_refreshes() {
        let auth = authenticator(60, 0);
        let t = tokens("a", 1_000_000, 3600);
        let due = auth.due_at(&t).unwrap();
        assert_eq!(due, 1_000_000 + 3_600_000 - 60_000);
        let current = Current {
            tokens: t,
            due_at_ms: Some(due),
            dirty: false,
            retry_not_before_ms: 0,
            forced_at_ms: None,
        };
        assert!(!auth.is_due(&current, due - 1));
        assert!(auth.is_due(&current, due));
    }

    #[test]
    fn clk_4_margin_is_capped_at_half_a_short_lifetime() {
        let auth = authenticator(60, 30);
        let t = tokens("a", 0, 30);
        // 30 s lifetime, 60 s margin: refresh after 15 s at the earliest, never before use.
        let due = auth.due_at(&t).unwrap();
        assert!((7_500..=15_000).contains(&due), "{due}");
    }

    #[test]
    fn clk_5_jitter_stays_within_its_bounds_and_is_deterministic_per_token() {
        let auth = authenticator(300, 30);
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let t = tokens(&format!("token-{i}"), 0, 3600);
            let due = auth.due_at(&t).unwrap();
            assert!(
                (3_600_000 - 300_000 - 30_000..=3_600_000 - 300_000).contains(&due),
                "{due}"
            );
            assert_eq!(due, auth.due_at(&t).unwrap());
            seen.insert(due);
        }
        assert!(seen.len() > 100, "jitter spreads deadlines: {}", seen.len());
    }

    #[test]
    fn hl_1_verifier_accepts_a_bare_code_or_a_callback_url() {
        let (code, state) = parse_verifier(&Secret::new("  abc123 \n")).unwrap();
        assert_eq!((code.expose(), state), ("abc123", None));
        let (code, state) =
            parse_verifier(&Secret::new("http://localhost:33333/?code=xyz&state=s1")).unwrap();
        assert_eq!((code.expose(), state.as_deref()), ("xyz", Some("s1")));
        assert!(matches!(
            parse_verifier(&Secret::new(
                "http://localhost:33333/?error=access_denied&state=s"
            )),
            Err(Error::AccessDenied { .. })
        ));
    }

    #[test]
    fn a1_a2_authorization_url_carries_state_and_s256_challenge() {
        let provider = Provider::new(
            "P",
            "P",
            "https://p.example/authorize",
            "https://p.example/t",
        )
        .unwrap();
        let verifier = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let url = authorization_url(
            &provider,
            "cid",
            "http://localhost:33333",
            &["a".into(), "b".into()],
            "st",
            Some(&verifier),
        );
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["redirect_uri"], "http://localhost:33333");
        assert_eq!(pairs["scope"], "a b");
        assert_eq!(pairs["state"], "st");
        assert_eq!(
            pairs["code_challenge"],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(pairs["code_challenge_method"], "S256");
    }
}
