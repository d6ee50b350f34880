//! The `InitiateOAuth` modes over a provider, with safe refresh.
//!
//! Refresh is single-flight inside a process (one task refreshes, the others wait and take its
//! result) and serialised across processes by the token store's lock: under the lock the store
//! is re-read, and the refresh happens only if the token there is still stale; the new tokens
//! are written before the lock is released. Act-On refresh tokens are single-use, so this is what
//! keeps several processes sharing one `OAuthSettingsLocation` from locking the user out.

use std::sync::Arc;
use std::time::Duration;

use connstr::Secret;
use connstr::validate::{CommonConfig, InitiateOAuth};
use token_store::{KeyConfig, Location, TokenRecord, TokenStore};
use url::Url;

use crate::grants::{ClientCredentials, TokenClient};
use crate::http::{self, HttpSettings};
use crate::provider::Provider;
use crate::refresh::{Given, Inner, REFRESH_ATTEMPTS, Request, Window};
use crate::revoke::LogoutReport;
use crate::time::{SharedTimeSource, system_time};
use crate::token::TokenSet;
use crate::{BoxFuture, Error, Result, SharedTokenProvider, StaticTokenProvider, TokenProvider};

/// Refresh this long before expiry (capped at half the lifetime, CLK-4).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Up to this much extra, random per token, so that many clients don't refresh in step.
pub const DEFAULT_REFRESH_JITTER: Duration = Duration::from_secs(30);
/// How much longer than the lock holder's worst case another process waits for the store's
/// lock (see [`AuthenticatorBuilder::lock_timeout`]).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);
/// Where the state of a pending headless authorization is kept in the store (encrypted).
pub(crate) const PENDING_STATE: &str = "pending_authorization_state";
/// How long the desktop flow waits for the user in the browser.
pub const DEFAULT_BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

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
    inner: Arc<Inner>,
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
    lock_timeout: Option<Duration>,
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

    /// How long to wait for the store's lock. The default outlasts the worst case of the
    /// lock holder: every token request of a refresh timing out, or a browser login.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
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
        let tokens = TokenClient::new(self.provider, client, http, self.time.clone())
            .with_timeout(self.http.timeout);
        let lock_timeout = self.lock_timeout.unwrap_or_else(|| {
            default_lock_timeout(&tokens, &self.grant, self.initiate, self.browser_timeout)
        });
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Ok(Authenticator {
            inner: Arc::new(Inner::new(
                tokens,
                self.initiate,
                self.grant,
                scopes,
                self.callback_url,
                self.verifier,
                self.given,
                self.store,
                (lock_timeout, self.browser_timeout),
                self.browser,
                (millis(self.margin), millis(self.jitter)),
                self.time,
            )),
        })
    }
}

/// A lock wait that outlasts the holder's worst case: a refresh whose every request times out
/// (plus the guarded retry and a password re-grant), or a browser login, plus slack.
fn default_lock_timeout(
    tokens: &TokenClient,
    grant: &Grant,
    initiate: InitiateOAuth,
    browser_timeout: Duration,
) -> Duration {
    let refresh = tokens.worst_case_refresh(REFRESH_ATTEMPTS) + tokens.request_timeout() * 2;
    let login = match (grant, initiate) {
        (Grant::AuthorizationCode, InitiateOAuth::GetAndRefresh) => {
            browser_timeout + tokens.request_timeout()
        }
        _ => Duration::ZERO,
    };
    refresh.max(login) + DEFAULT_LOCK_TIMEOUT
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
            lock_timeout: None,
            browser_timeout: DEFAULT_BROWSER_TIMEOUT,
            browser: None,
            margin: DEFAULT_REFRESH_MARGIN,
            jitter: DEFAULT_REFRESH_JITTER,
            time: system_time(),
        }
    }

    /// The authenticator a validated connection configuration describes.
    pub fn from_config(provider: Provider, common: &CommonConfig, grant: Grant) -> Result<Self> {
        // An explicit OAuthSettingsLocation persists even with InitiateOAuth=OFF (the password
        // grant's default): `login` must not report success and keep nothing.
        let persist =
            common.initiate_oauth != InitiateOAuth::Off || common.oauth_settings_location.is_some();
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
        self.inner.store.as_ref()
    }

    /// How long this authenticator waits for another process holding the store's lock.
    pub fn lock_timeout(&self) -> Duration {
        self.inner.lock_timeout
    }

    /// Runs the configured first-time flow now (browser, verifier exchange or password grant)
    /// and stores the tokens, even if valid tokens are stored (`connector <source> login`).
    pub async fn login(&self) -> Result<TokenStatus> {
        let inner = &self.inner;
        {
            let _exclusive = inner.exclusive.lock().await;
            let _window = Window::open(inner);
            let guard = inner.lock_store().await?;
            let stored = inner.load_store().await?;
            let tokens = match &inner.verifier {
                Some(v) => inner.exchange_verifier(v, &stored).await?,
                None => inner.initial_grant().await?,
            };
            inner.adopt_and_save(tokens, &guard, None, None).await?;
        }
        self.status().await
    }

    /// Runs the first-time flow (desktop browser or password grant) and returns the tokens
    /// without storing them (the `GetOAuthAccessToken` procedure in APP mode).
    pub async fn obtain_new_tokens(&self) -> Result<TokenSet> {
        self.inner.initial_grant().await
    }

    /// Refreshes now, under the store's lock, and saves the new tokens: what
    /// `EXEC RefreshOAuthAccessToken` does for a connection whose tokens are stored, so that a
    /// single-use refresh token is never used without keeping its successor.
    pub async fn refresh_now(&self) -> Result<TokenSet> {
        self.inner
            .run_in_flight(Request {
                failed: None,
                force: true,
            })
            .await
    }

    /// Keeps the state of an authorization URL made for the headless two-step flow in the
    /// store, so that a bare code pasted later as `OAuthVerifier` can be exchanged with the
    /// PKCE verifier derived from it.
    pub async fn remember_pending_state(&self, state: &str) -> Result<()> {
        let inner = &self.inner;
        let _exclusive = inner.exclusive.lock().await;
        let guard = inner.lock_store().await?;
        let Some(store) = inner.store.clone() else {
            return Ok(());
        };
        let mut record = inner.load_store().await?.unwrap_or_else(|| {
            TokenRecord::new(
                inner.tokens.provider.source.clone(),
                "OAuth",
                Secret::default(),
            )
        });
        record.client_id = Some(inner.tokens.client.id.clone());
        record
            .secret_extras
            .insert(PENDING_STATE.to_owned(), Secret::new(state));
        let saved = tokio::task::spawn_blocking(move || store.save(&record))
            .await
            .map_err(|_| Error::Cancelled)?;
        drop(guard);
        saved.map(drop).map_err(Error::from)
    }

    /// The token endpoint client (code exchange, refresh) of this configuration.
    pub fn token_client(&self) -> &TokenClient {
        &self.inner.tokens
    }

    /// The scopes this configuration requests.
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }

    /// Asks the provider whether the current access token (stored or given) is alive, without
    /// refreshing it: a dead token reads [`Introspection::Inactive`] even when the provider
    /// answers 200.
    pub async fn introspect(&self) -> Result<crate::Introspection> {
        let inner = &self.inner;
        let record = inner.load_store().await?;
        let access_token = record
            .as_ref()
            .map(|r| r.access_token.clone())
            .or_else(|| inner.current_tokens().map(|c| c.tokens.access_token))
            .or_else(|| inner.given.as_ref().map(|g| g.tokens.access_token.clone()));
        Ok(crate::introspect::introspect(&inner.tokens, access_token.as_ref()).await)
    }

    /// What is stored, without secrets.
    pub async fn status(&self) -> Result<TokenStatus> {
        let inner = &self.inner;
        let record = inner.load_store().await?;
        let current = inner.current_tokens();
        let tokens = record
            .as_ref()
            .map(record_tokens)
            .or_else(|| current.map(|c| c.tokens))
            .or_else(|| inner.given.as_ref().map(|g| g.tokens.clone()));
        Ok(TokenStatus {
            location: inner.location_text(),
            has_access_token: tokens.as_ref().is_some_and(|t| !t.access_token.is_empty()),
            has_refresh_token: tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()),
            scope: tokens.as_ref().and_then(|t| t.scope.clone()),
            obtained_at_ms: tokens.as_ref().map(|t| t.obtained_at_ms).filter(|t| *t > 0),
            expires_at_ms: tokens.as_ref().and_then(TokenSet::expires_at_ms),
            revision: record.map(|r| r.revision),
        })
    }

    /// Revokes the refresh token at the provider (RFC 7009, where an endpoint is known) and
    /// deletes the stored tokens. The report says plainly whether the provider confirmed the
    /// revocation: local deletion alone leaves the refresh token valid at the provider.
    pub async fn logout(&self) -> Result<LogoutReport> {
        let inner = &self.inner;
        let _exclusive = inner.exclusive.lock().await;
        let guard = inner.lock_store().await?;
        let record = inner.load_store().await?;
        let refresh_token = record
            .as_ref()
            .and_then(|r| r.refresh_token.clone())
            .or_else(|| inner.current_tokens().and_then(|c| c.tokens.refresh_token));
        let revocation = crate::revoke::revoke(&inner.tokens, refresh_token.as_ref()).await;
        if let Some(store) = inner.store.clone() {
            tokio::task::spawn_blocking(move || store.clear())
                .await
                .map_err(|_| Error::Cancelled)??;
        }
        *inner.lock_current() = None;
        drop(guard);
        Ok(LogoutReport {
            location: inner.location_text(),
            deleted: record.is_some(),
            revocation,
        })
    }

    /// The authorization URL for `redirect_uri` and `state`, with an S256 challenge when the
    /// provider takes PKCE.
    pub fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        pkce_verifier: Option<&Secret>,
    ) -> Url {
        let inner = &self.inner;
        authorization_url(
            &inner.tokens.provider,
            &inner.tokens.client.id,
            redirect_uri,
            &inner.scopes,
            state,
            pkce_verifier,
        )
    }
}

/// The desktop flow: loopback listener, browser, callback (state, then `iss` checked), code
/// exchange with the PKCE verifier.
pub(crate) async fn desktop_flow(inner: &Inner) -> Result<TokenSet> {
    let callback = inner.callback_url.clone().ok_or_else(|| Error::InvalidConfiguration {
        property: "CallbackURL",
        message: "the browser flow needs the redirect URI registered with the OAuth app, e.g. CallbackURL=http://localhost:33333".to_owned(),
    })?;
    let provider = &inner.tokens.provider;
    // bind_configured keeps CallbackURL byte for byte: `Url` would add a trailing `/`,
    // which HubSpot's exact redirect-URI match rejects.
    let listener = crate::callback::CallbackListener::bind_configured(&callback)
        .await?
        .with_provider(provider.name.clone());
    let redirect_uri = listener.redirect_uri();
    let state = crate::pkce::random_token();
    let verifier = provider.pkce.then(crate::pkce::random_token);
    let url = authorization_url(
        provider,
        &inner.tokens.client.id,
        &redirect_uri,
        &inner.scopes,
        state.expose(),
        verifier.as_ref(),
    );
    let opened = match &inner.browser {
        Some(command) => crate::browser::open_browser_with(url.as_str(), Some(command)),
        None => crate::browser::open_browser(url.as_str()),
    };
    if opened.is_err() {
        crate::browser::announce(url.as_str());
    }
    let result = listener.wait(&state, inner.browser_timeout).await?;
    check_issuer(provider, result.iss.as_deref())?;
    inner.request_out()?;
    inner
        .tokens
        .exchange_code(&result.code, &redirect_uri, verifier.as_ref())
        .await
        .map_err(code_error)
}

/// CB-8 (RFC 9207): an `iss` that names another server aborts the flow before the exchange.
fn check_issuer(provider: &Provider, iss: Option<&str>) -> Result<()> {
    let Some(iss) = iss else { return Ok(()) };
    let expected = provider.expected_issuer();
    if iss.trim_end_matches('/') == expected.trim_end_matches('/') {
        return Ok(());
    }
    Err(Error::IssuerMismatch {
        expected,
        received: iss.chars().filter(|c| !c.is_control()).take(200).collect(),
    })
}

/// A code exchange refused with invalid_grant means the code is stale or used (HL-3), not
/// that a refresh token died.
pub(crate) fn code_error(e: Error) -> Error {
    if e.is_invalid_grant() {
        Error::ReauthorizationRequired {
            reason: format!(
                "the authorization code was refused ({e}); codes expire within minutes and work once — authorize again"
            ),
            location: None,
            command: None,
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

pub(crate) fn verifier_digest(verifier: &Secret) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.expose().trim().as_bytes());
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        d.as_ref(),
    )
}

pub(crate) fn record_tokens(r: &TokenRecord) -> TokenSet {
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
        Box::pin(self.inner.obtain(None))
    }

    fn on_unauthorized<'a>(&'a self, failed: &'a Secret) -> BoxFuture<'a, Result<Secret>> {
        Box::pin(self.inner.obtain(Some(failed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refresh::Current;
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
        let due = auth.inner.due_at(&t).unwrap();
        assert_eq!(due, 1_000_000 + 3_600_000 - 60_000);
        let current = Current {
            tokens: t,
            due_at_ms: Some(due),
            unsaved: None,
            retry_not_before_ms: 0,
            forced_at_ms: None,
        };
        assert!(!auth.inner.is_due(&current, due - 1));
        assert!(auth.inner.is_due(&current, due));
    }

    #[test]
    fn clk_4_margin_is_capped_at_half_a_short_lifetime() {
        let auth = authenticator(60, 30);
        let t = tokens("a", 0, 30);
        // 30 s lifetime, 60 s margin: refresh after 15 s at the earliest, never before use.
        let due = auth.inner.due_at(&t).unwrap();
        assert!((7_500..=15_000).contains(&due), "{due}");
    }

    #[test]
    fn clk_5_jitter_stays_within_its_bounds_and_is_deterministic_per_token() {
        let auth = authenticator(300, 30);
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let t = tokens(&format!("token-{i}"), 0, 3600);
            let due = auth.inner.due_at(&t).unwrap();
            assert!(
                (3_600_000 - 300_000 - 30_000..=3_600_000 - 300_000).contains(&due),
                "{due}"
            );
            assert_eq!(due, auth.inner.due_at(&t).unwrap());
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

    #[test]
    fn cb_8_a_mismatched_issuer_aborts_the_flow_before_the_exchange() {
        let provider = Provider::new(
            "P",
            "P",
            "https://auth.example/oauth/authorize",
            "https://auth.example/t",
        )
        .unwrap();
        assert!(
            check_issuer(&provider, None).is_ok(),
            "no iss: nothing to check"
        );
        assert!(check_issuer(&provider, Some("https://auth.example")).is_ok());
        assert!(check_issuer(&provider, Some("https://auth.example/")).is_ok());
        let err = check_issuer(&provider, Some("https://evil.example\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the authorization response came from issuer https://evil.example, not from https://auth.example; the flow was aborted (check OAuthAuthorizationURL)"
        );
        let mut pinned = provider.clone();
        pinned.issuer = Some("https://issuer.example".into());
        assert!(check_issuer(&pinned, Some("https://auth.example")).is_err());
        assert!(check_issuer(&pinned, Some("https://issuer.example")).is_ok());
    }
}
