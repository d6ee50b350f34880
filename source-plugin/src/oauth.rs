//! The OAuth procedures: `GetOAuthAuthorizationURL`, `GetOAuthAccessToken`,
//! `RefreshOAuthAccessToken`.
//!
//! # The web flow across requests and processes
//! A web application calls `GetOAuthAuthorizationURL` in one request and `GetOAuthAccessToken`
//! in another, possibly in another process, with nothing shared but the client secret. So the
//! PKCE verifier is derived from the state and the client secret
//! ([`auth_core::pkce::derived_verifier`]), and a state this procedure generates carries a MAC
//! (`<random>.<mac>`): `GetOAuthAccessToken` rejects a state whose MAC does not verify before any
//! token request, and the provider rejects a code whose PKCE challenge does not match the state.
//! Give `GetOAuthAccessToken` the state (input `State`), or pass the whole callback URL as
//! `Verifier`, which carries both.

use auth_core::grants::{ClientCredentials, TokenClient};
use auth_core::provider::Provider;
use auth_core::token::TokenSet;
use auth_core::{Grant, Secret};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use connstr::validate::{CommonConfig, InitiateOAuth};
use source_core::procedure::{
    Args, InputDef, ParamType, ProcedureDef, ProcedureOutput, ProcedureSet, ResultColumn,
};
use source_core::{BoxFuture, Error, Result};

/// The OAuth trio for one connection of any OAuth source: generic over its
/// [`Provider`] (endpoints, scopes, PKCE, refresh-token rules) and its first [`Grant`].
#[derive(Debug)]
pub struct OAuthProcedures {
    provider: Provider,
    common: CommonConfig,
    grant: Grant,
}

/// An authentication failure as a procedure error, with its kind.
fn auth_error(e: auth_core::Error) -> Error {
    Error::with_kind(source_http::auth_kind(&e), e)
}

const TOKEN_RESULTS: &[(&str, &str)] = &[
    ("OAuthAccessToken", "The access token."),
    (
        "OAuthRefreshToken",
        "A token that may be used to obtain a new access token.",
    ),
    (
        "ExpiresIn",
        "The remaining lifetime of the access token in seconds; -1 if unknown.",
    ),
    (
        "OAuthTokenTimeStamp",
        "When the access token was obtained, Unix epoch milliseconds.",
    ),
];

impl OAuthProcedures {
    /// The procedures of a connection that authenticates with `provider`, starting with
    /// `grant` (the scopes default to the provider's when the `Scope` input and property are
    /// unset).
    pub fn new(provider: Provider, common: CommonConfig, grant: Grant) -> Self {
        Self {
            provider,
            common,
            grant,
        }
    }

    fn client(&self) -> Result<ClientCredentials> {
        let id = self.common.oauth_client_id.clone().ok_or_else(|| {
            auth_error(auth_core::Error::InvalidConfiguration {
                property: "OAuthClientId",
                message:
                    "the OAuth procedures need the OAuth app's client id (and OAuthClientSecret)"
                        .to_owned(),
            })
        })?;
        Ok(ClientCredentials {
            id,
            secret: self.common.oauth_client_secret.clone(),
        })
    }

    fn token_client(&self) -> Result<TokenClient> {
        let http =
            auth_core::http::client(&auth_core::http::HttpSettings::from_config(&self.common))
                .map_err(auth_error)?;
        Ok(TokenClient::new(
            self.provider.clone(),
            self.client()?,
            http,
            auth_core::time::system_time(),
        ))
    }

    /// The authenticator of this connection's token store, when `OAuthSettingsLocation` is set.
    fn stored_authenticator(&self) -> Result<Option<auth_core::Authenticator>> {
        if self.common.oauth_settings_location.is_none() {
            return Ok(None);
        }
        let mut common = self.common.clone();
        common.initiate_oauth = InitiateOAuth::Refresh;
        common.oauth_verifier = None;
        auth_core::Authenticator::from_config(self.provider.clone(), &common, self.grant.clone())
            .map(Some)
            .map_err(auth_error)
    }

    fn scopes(&self, args: &Args) -> Vec<String> {
        let text = args
            .text("Scope")
            .or_else(|| self.common.scope.clone())
            .unwrap_or_else(|| self.provider.default_scopes.join(" "));
        text.split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn callback(&self, args: &Args) -> Result<String> {
        args.text("CallbackUrl")
            .or_else(|| self.common.callback_url.clone())
            .ok_or(Error::MissingInput {
                procedure: "GetOAuthAccessToken",
                input: "CallbackUrl",
                description: "the redirect URI registered with the OAuth app (or set the CallbackURL property)",
            })
    }

    /// The key that signs generated states: the client secret, else the client id.
    fn state_key(&self) -> Result<ring::hmac::Key> {
        let client = self.client()?;
        let material = client
            .secret
            .as_ref()
            .map_or(client.id.clone(), |s| s.expose().to_owned());
        Ok(ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            material.as_bytes(),
        ))
    }

    fn new_state(&self) -> Result<String> {
        let nonce = auth_core::pkce::random_token();
        let tag = ring::hmac::sign(&self.state_key()?, nonce.expose().as_bytes());
        Ok(format!(
            "{}.{}",
            nonce.expose(),
            &URL_SAFE_NO_PAD.encode(tag.as_ref())[..22]
        ))
    }

    /// Whether a state of ours (`<nonce>.<mac>`) verifies; user-chosen states pass.
    fn check_state(&self, state: &str) -> Result<()> {
        let Some((nonce, mac)) = state.split_once('.') else {
            return Ok(());
        };
        if nonce.len() != 43 || mac.len() != 22 {
            return Ok(());
        }
        let tag = ring::hmac::sign(&self.state_key()?, nonce.as_bytes());
        let expected = Secret::new(URL_SAFE_NO_PAD.encode(tag.as_ref())[..22].to_owned());
        if expected.ct_eq(&Secret::new(mac)) {
            Ok(())
        } else {
            Err(auth_error(auth_core::Error::VerifierMismatch {
                reason: "the state was not issued by GetOAuthAuthorizationURL for this OAuth app"
                    .to_owned(),
            }))
        }
    }

    fn pkce_for(&self, state: &str) -> Option<Secret> {
        match (&self.common.oauth_client_secret, self.provider.pkce) {
            (Some(secret), true) => Some(auth_core::pkce::derived_verifier(secret, state)),
            _ => None,
        }
    }

    async fn authorization_url(&self, args: Args) -> Result<ProcedureOutput> {
        let callback = self.callback(&args).map_err(|_| Error::MissingInput {
            procedure: "GetOAuthAuthorizationURL",
            input: "CallbackUrl",
            description: "the redirect URI registered with the OAuth app (or set the CallbackURL property)",
        })?;
        let state = match args.text("State") {
            Some(s) => s,
            None => self.new_state()?,
        };
        let pkce = self.pkce_for(&state);
        let url = auth_core::authorization_url(
            &self.provider,
            &self.client()?.id,
            &callback,
            &self.scopes(&args),
            &state,
            pkce.as_ref(),
        );
        if pkce.is_some() {
            // The headless flow pastes back only the code (`OAuthVerifier=<code>`): keep the
            // state with the stored tokens so that the PKCE verifier can be derived then.
            if let Some(auth) = self.stored_authenticator()? {
                auth.remember_pending_state(&state)
                    .await
                    .map_err(auth_error)?;
            }
        }
        Ok(ProcedureOutput::row(vec![("URL", Some(url.to_string()))]))
    }

    async fn access_token(&self, args: Args) -> Result<ProcedureOutput> {
        let mode = args.text("AuthMode").unwrap_or_else(|| "APP".to_owned());
        let tokens = if mode.eq_ignore_ascii_case("WEB") {
            let verifier = args.text("Verifier").ok_or(Error::MissingInput {
                procedure: "GetOAuthAccessToken",
                input: "Verifier",
                description: "the code parameter of the callback URL (or the whole callback URL) when AuthMode=WEB",
            })?;
            let (code, url_state) =
                auth_core::parse_verifier(&Secret::new(verifier)).map_err(auth_error)?;
            let state = match (args.text("State"), url_state) {
                (Some(given), Some(from_url)) if given != from_url => {
                    return Err(auth_error(auth_core::Error::VerifierMismatch {
                        reason: "the callback URL's state differs from the State input".to_owned(),
                    }));
                }
                (given, from_url) => given.or(from_url),
            };
            if let Some(state) = &state {
                self.check_state(state)?;
            }
            let callback = self.callback(&args)?;
            let pkce = state.as_deref().and_then(|s| self.pkce_for(s));
            self.token_client()?
                .exchange_code(&code, &callback, pkce.as_ref())
                .await
                .map_err(|e| match (&e, &state) {
                    (e, None) if e.is_invalid_grant() => auth_core::Error::VerifierMismatch {
                        reason: "the code was refused; if the authorization URL came from GetOAuthAuthorizationURL, pass its State too (or the whole callback URL as Verifier) so the PKCE verifier can be derived".to_owned(),
                    },
                    _ => e,
                })
                .map_err(auth_error)?
        } else {
            // APP: the desktop flow, as a connection with InitiateOAuth=GETANDREFRESH would run it.
            let mut common = self.common.clone();
            common.initiate_oauth = InitiateOAuth::GetAndRefresh;
            if let Some(cb) = args.text("CallbackUrl") {
                common.callback_url = Some(cb);
            }
            common.oauth_settings_location = None;
            let auth = auth_core::Authenticator::builder(self.provider.clone());
            let client = self.client()?;
            let mut auth = auth
                .client(client.id, client.secret)
                .grant(self.grant.clone())
                .scopes(self.scopes(&args))
                .http(auth_core::http::HttpSettings::from_config(&common));
            if let Some(cb) = common.callback_url {
                auth = auth.callback_url(cb);
            }
            auth.build()
                .map_err(auth_error)?
                .obtain_new_tokens()
                .await
                .map_err(auth_error)?
        };
        Ok(token_output(&tokens))
    }

    async fn refresh(&self, args: Args) -> Result<ProcedureOutput> {
        let given = args
            .text("OAuthRefreshToken")
            .map(Secret::new)
            .or_else(|| self.common.oauth_refresh_token.clone());
        // The stored refresh token goes through the authenticator: under the store's lock, and
        // its successor saved (a single-use token used here would otherwise leave the store
        // holding a dead one).
        if let Some(auth) = self.stored_authenticator()? {
            let stored = match auth.store() {
                Some(store) => store
                    .try_load()
                    .map_err(|e| auth_error(e.into()))?
                    .and_then(|r| r.refresh_token),
                None => None,
            };
            if stored.is_some()
                && given
                    .as_ref()
                    .is_none_or(|g| stored.as_ref().is_some_and(|s| s.ct_eq(g)))
            {
                let tokens = auth.refresh_now().await.map_err(auth_error)?;
                return Ok(token_output(&tokens));
            }
        }
        let refresh = given.ok_or(Error::MissingInput {
            procedure: "RefreshOAuthAccessToken",
            input: "OAuthRefreshToken",
            description: "the refresh token returned by GetOAuthAccessToken (or set OAuthSettingsLocation to refresh the stored one)",
        })?;
        // Never replayed after a lost answer when the provider's refresh tokens are single-use.
        let mut tokens = self
            .token_client()?
            .refresh(&refresh, None, 3)
            .await
            .map_err(auth_error)?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh);
        }
        Ok(token_output(&tokens))
    }
}

fn token_output(tokens: &TokenSet) -> ProcedureOutput {
    ProcedureOutput::row(vec![
        (
            "OAuthAccessToken",
            Some(tokens.access_token.expose().to_owned()),
        ),
        (
            "OAuthRefreshToken",
            tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
        ),
        (
            "ExpiresIn",
            Some(
                tokens
                    .expires_in
                    .map_or_else(|| "-1".to_owned(), |s| s.to_string()),
            ),
        ),
        (
            "OAuthTokenTimeStamp",
            Some(tokens.obtained_at_ms.to_string()),
        ),
    ])
}

fn input(name: &'static str, description: &'static str) -> InputDef {
    InputDef {
        name,
        ty: ParamType::String,
        required: false,
        default: None,
        allowed: &[],
        sensitive: false,
        description,
    }
}

impl ProcedureSet for OAuthProcedures {
    fn definitions(&self) -> Vec<ProcedureDef> {
        let scope_default = "The scopes to request, space- or comma-separated (default: the Scope property, else the source's default scopes).";
        let results = |cols: &[(&'static str, &'static str)]| {
            cols.iter()
                .map(|(name, description)| ResultColumn {
                    name,
                    ty: ParamType::String,
                    description,
                })
                .collect::<Vec<_>>()
        };
        vec![
            ProcedureDef {
                name: "GetOAuthAuthorizationURL",
                description: "Gets the authorization URL the user opens to grant access to your app (web and headless flows).",
                inputs: vec![
                    input(
                        "CallbackUrl",
                        "The URL the user is redirected to after authorizing; must match the app's registered redirect URI. Default: the CallbackURL property.",
                    ),
                    input("Scope", scope_default),
                    input(
                        "State",
                        "A value round-tripped to the callback (CSRF protection); generated and signed when absent.",
                    ),
                    InputDef {
                        allowed: &["APP", "WEB"],
                        ..input("AuthMode", "Accepted for compatibility: APP or WEB.")
                    },
                ],
                results: results(&[("URL", "The authorization URL to open in a browser.")]),
            },
            ProcedureDef {
                name: "GetOAuthAccessToken",
                description: "Gets an access token: AuthMode=WEB exchanges the Verifier from the callback; APP runs the browser flow on this machine.",
                inputs: vec![
                    InputDef {
                        default: Some("APP"),
                        allowed: &["APP", "WEB"],
                        ..input(
                            "AuthMode",
                            "APP: desktop browser flow; WEB: exchange a verifier.",
                        )
                    },
                    input("Scope", scope_default),
                    input(
                        "CallbackUrl",
                        "The redirect URI used in the authorization URL. Default: the CallbackURL property.",
                    ),
                    InputDef {
                        sensitive: true,
                        ..input(
                            "Verifier",
                            "The code parameter of the callback URL, or the whole callback URL (AuthMode=WEB).",
                        )
                    },
                    input(
                        "State",
                        "The state of the authorization URL (needed with a bare code when GetOAuthAuthorizationURL generated the URL).",
                    ),
                ],
                results: results(TOKEN_RESULTS),
            },
            ProcedureDef {
                name: "RefreshOAuthAccessToken",
                description: "Refreshes the access token with a refresh token (Act-On refresh tokens work once: keep the new one).",
                inputs: vec![InputDef {
                    sensitive: true,
                    ..input(
                        "OAuthRefreshToken",
                        "The refresh token. Default: the OAuthRefreshToken property.",
                    )
                }],
                results: results(TOKEN_RESULTS),
            },
        ]
    }

    fn run<'a>(&'a self, name: &'static str, args: Args) -> BoxFuture<'a, Result<ProcedureOutput>> {
        Box::pin(async move {
            match name {
                "GetOAuthAuthorizationURL" => self.authorization_url(args).await,
                "GetOAuthAccessToken" => self.access_token(args).await,
                _ => self.refresh(args).await,
            }
        })
    }
}
