//! Scripted login: the scan signs in through the application's own login form before it
//! starts and whenever its session is lost, so that it crawls and tests what a signed-in user
//! sees. The form is read from the login page like a browser would (the form with a password
//! field; hidden fields such as anti-CSRF tokens keep their values, the page's cookies are
//! sent back), the configured fields and the password are filled in, the form is submitted,
//! and success is checked: a text in the answer (or in the same-origin page it redirects to),
//! or an exact status code. The cookies the application sets while signing in form the
//! session's jar, added to every request of the scan; a response that redirects to the login
//! page or deletes a session cookie means the session is lost, and the client signs in again
//! (once for all threads) and repeats the request.
//!
//! Credentials stay secret: the password and every session cookie value are added to the
//! client's redaction list, so neither appears in findings, reports, progress or warnings even
//! when the application echoes them; [`LoginConfig`]'s `Debug` hides the password.
//!
//! The same form also serves the session-fixation test ([`fixation`]): sign in carrying the
//! cookies the login page handed out before, and see whether those cookies are signed in
//! afterwards.

use url::Url;

use crate::error::ScanError;
use crate::extract;
use crate::http::{Client, Exchange, Request};
use crate::target::{Location, Target};

/// How success is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginCheck {
    /// This text appears in the answer to the form, or in the same-origin page it redirects to.
    Text(String),
    /// The answer to the form has this status.
    Status(u16),
}

impl LoginCheck {
    /// `TEXT` or a three-digit `STATUS`.
    pub fn parse(text: &str) -> Self {
        match text.parse::<u16>() {
            Ok(status) if text.len() == 3 && (100..600).contains(&status) => Self::Status(status),
            _ => Self::Text(text.to_owned()),
        }
    }
}

/// How to sign in.
#[derive(Clone)]
pub struct LoginConfig {
    /// The page with the login form.
    pub url: Url,
    /// Fields filled in by name (`user=alice`); not secret.
    pub fields: Vec<(String, String)>,
    /// The password, filled into the form's password field. Secret.
    pub password: String,
    /// How success is recognised.
    pub check: LoginCheck,
}

impl std::fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginConfig")
            .field("url", &self.url)
            .field("fields", &self.fields)
            .field("password", &"[redacted]")
            .field("check", &self.check)
            .finish()
    }
}

/// A cookie jar: (name, value) in the order set.
pub(crate) type Jar = Vec<(String, String)>;

/// A signed-in session.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    /// The cookies set while signing in (those the login page set first included).
    pub(crate) jar: Jar,
    /// Where the application sent the browser after signing in (or the form's answer URL).
    pub(crate) landing: Url,
    /// The answer that proved success (the landing page for text checks).
    pub(crate) proof: Exchange,
}

/// Signs in with `config`, starting from the cookies in `jar` (empty: a fresh browser).
/// Requests carry the scan's configured headers but no session cookie but the jar's.
pub(crate) fn sign_in(
    client: &Client,
    config: &LoginConfig,
    mut jar: Jar,
) -> Result<SignedIn, ScanError> {
    let page = client.send(&outside_session(Request::get(config.url.clone()), &jar))?;
    update(&mut jar, &page);
    let form = login_form(config, &page)?;
    let answer = client.send(&outside_session(form.baseline(), &jar))?;
    update(&mut jar, &answer);
    let redirect = (300..400)
        .contains(&answer.status)
        .then(|| answer.header("location"))
        .flatten()
        .and_then(|l| answer.request.url.join(l).ok())
        .filter(|to| to.origin() == config.url.origin());
    let (landing, proof) = match (&config.check, redirect) {
        (LoginCheck::Status(status), _) => {
            if answer.status != *status {
                return Err(ScanError::login(format!(
                    "the login form at {} answered HTTP {}, not {status}",
                    config.url, answer.status
                )));
            }
            (answer.request.url.clone(), answer)
        }
        (LoginCheck::Text(text), _) if answer.body.contains(text.as_str()) => {
            (answer.request.url.clone(), answer)
        }
        (LoginCheck::Text(text), Some(to)) => {
            let landing = client.send(&outside_session(Request::get(to.clone()), &jar))?;
            update(&mut jar, &landing);
            if !landing.body.contains(text.as_str()) {
                return Err(ScanError::login(format!(
                    "the login form at {} led to {to} (HTTP {}) without the success text",
                    config.url, landing.status
                )));
            }
            (to, landing)
        }
        (LoginCheck::Text(_), None) => {
            return Err(ScanError::login(format!(
                "the login form at {} answered HTTP {} without the success text",
                config.url, answer.status
            )));
        }
    };
    for (_, value) in &jar {
        client.add_secret(value);
    }
    Ok(SignedIn {
        jar,
        landing,
        proof,
    })
}

/// The form on the login page with a password field, filled in: configured fields by name,
/// the password in the (first) password field, other fields (hidden tokens) at their values.
fn login_form(config: &LoginConfig, page: &Exchange) -> Result<Target, ScanError> {
    let forms = extract::html(&page.request.url, &page.body).forms;
    let mut form = forms
        .into_iter()
        .find(|f| f.params.iter().any(|p| p.kind == "password"))
        .ok_or_else(|| {
            ScanError::login(format!(
                "no form with a password field at {} (HTTP {})",
                config.url, page.status
            ))
        })?;
    let mut password_filled = false;
    for param in &mut form.params {
        if let Some((_, value)) = config.fields.iter().find(|(name, _)| *name == param.name) {
            param.value = value.clone();
        } else if param.kind == "password" && !password_filled {
            param.value = config.password.clone();
            password_filled = true;
        }
    }
    let location = if form.method == "GET" {
        Location::Query
    } else if form
        .params
        .iter()
        .any(|p| p.location == Location::Multipart)
    {
        Location::Multipart
    } else {
        Location::Body
    };
    for (name, value) in &config.fields {
        if !form.params.iter().any(|p| p.name == *name) {
            form.params.push(crate::target::Param {
                name: name.clone(),
                value: value.clone(),
                location,
                kind: "text".into(),
            });
        }
    }
    Ok(form)
}

/// `request` outside the scan's session: the configured headers, and `jar` as its cookies.
fn outside_session(mut request: Request, jar: &Jar) -> Request {
    request.without_session = true;
    if !jar.is_empty() {
        let cookies: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        request.headers.push(("Cookie".into(), cookies.join("; ")));
    }
    request
}

/// The jar after `exchange`: cookies set replace those of the same name, deleted ones go.
pub(crate) fn update(jar: &mut Jar, exchange: &Exchange) {
    for (name, deleted) in deleted_cookies(&exchange.headers) {
        if deleted {
            jar.retain(|(n, _)| *n != name);
        }
    }
    for (name, value) in extract::set_cookies(&exchange.headers) {
        match jar.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => jar.push((name, value)),
        }
    }
}

/// Every cookie a response sets, with whether it deletes it (empty value, `Max-Age` zero or
/// less, or an `Expires` in 1970).
pub(crate) fn deleted_cookies(headers: &[(String, String)]) -> Vec<(String, bool)> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, header)| {
            let mut parts = header.split(';');
            let (name, value) = parts.next()?.split_once('=')?;
            let deleted = value.trim().trim_matches('"').is_empty()
                || parts.any(|attribute| {
                    let attribute = attribute.trim().to_ascii_lowercase();
                    attribute == "max-age=0"
                        || attribute.starts_with("max-age=-")
                        || (attribute.starts_with("expires=") && attribute.contains("1970"))
                });
            Some((name.trim().to_owned(), deleted))
        })
        .collect()
}

/// What the fixation test saw: the cookie that survived signing in, and the page it opens.
#[derive(Debug)]
pub(crate) struct Fixation {
    /// The cookie set before signing in and still valid, signed in, afterwards.
    pub(crate) cookie: String,
    /// The signed-in page fetched with only the cookies set before signing in.
    pub(crate) proof: Exchange,
    /// The same page without cookies.
    pub(crate) anonymous: Exchange,
}

/// Session fixation: the login page's cookies are kept, the form is submitted with them, and
/// a cookie the login did not replace is used alone to fetch the page signing in led to. A
/// finding needs that page to be the signed-in page (the success text, or for status checks
/// a 200 answer different from the same page fetched without cookies).
pub(crate) fn fixation(
    client: &Client,
    config: &LoginConfig,
) -> Result<Option<Fixation>, ScanError> {
    let page = client.send(&outside_session(
        Request::get(config.url.clone()),
        &Vec::new(),
    ))?;
    let before: Jar = extract::set_cookies(&page.headers);
    for (_, value) in &before {
        client.add_secret(value);
    }
    if before.is_empty() {
        return Ok(None);
    }
    let signed_in = match sign_in(client, config, before.clone()) {
        Ok(signed_in) => signed_in,
        Err(_) => return Ok(None),
    };
    let kept: Vec<&(String, String)> = before
        .iter()
        .filter(|cookie| signed_in.jar.contains(cookie))
        .collect();
    for cookie in kept {
        let alone: Jar = vec![cookie.clone()];
        let proof = client.send(&outside_session(
            Request::get(signed_in.landing.clone()),
            &alone,
        ))?;
        let anonymous = client.send(&outside_session(
            Request::get(signed_in.landing.clone()),
            &Vec::new(),
        ))?;
        let signed_in_page = match &config.check {
            LoginCheck::Text(text) => {
                proof.body.contains(text.as_str()) && !anonymous.body.contains(text.as_str())
            }
            LoginCheck::Status(_) => {
                proof.status == 200
                    && (anonymous.status != 200 || anonymous.body != proof.body)
                    && proof.body == signed_in.proof.body
            }
        };
        if signed_in_page {
            return Ok(Some(Fixation {
                cookie: cookie.0.clone(),
                proof,
                anonymous,
            }));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_parse_and_passwords_stay_out_of_debug_output() {
        assert_eq!(LoginCheck::parse("303"), LoginCheck::Status(303));
        assert_eq!(
            LoginCheck::parse("Signed in"),
            LoginCheck::Text("Signed in".into())
        );
        assert_eq!(LoginCheck::parse("1234"), LoginCheck::Text("1234".into()));
        let config = LoginConfig {
            url: Url::parse("http://h/login").unwrap_or_else(|e| panic!("{e}")),
            fields: vec![("user".into(), "alice".into())],
            password: "hunter2-secret".into(),
            check: LoginCheck::Status(302),
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("alice"),
            "{shown}"
        );
    }

    #[test]
    fn the_password_form_is_filled_and_hidden_tokens_kept() {
        let url = Url::parse("http://h/login").unwrap_or_else(|e| panic!("{e}"));
        let page = Exchange {
            request: Request::get(url.clone()),
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: r#"<form action="/search"><input name="q"></form>
                <form method="post" action="/session"><input type="hidden" name="csrf" value="t0k">
                <input name="user"><input type="password" name="pw"><input type="submit" name="go" value="Sign in"></form>"#
                .into(),
            elapsed: std::time::Duration::ZERO,
        };
        let config = LoginConfig {
            url,
            fields: vec![
                ("user".into(), "alice".into()),
                ("otp".into(), "123456".into()),
            ],
            password: "hunter2-secret".into(),
            check: LoginCheck::Status(302),
        };
        let form = login_form(&config, &page).unwrap_or_else(|e| panic!("{e}"));
        let request = form.baseline();
        assert_eq!(request.url.as_str(), "http://h/session");
        assert_eq!(
            request.body.as_deref(),
            Some("csrf=t0k&user=alice&pw=hunter2-secret&go=Sign+in&otp=123456")
        );
    }

    #[test]
    fn jars_follow_set_and_deleted_cookies() {
        let exchange = |cookies: &[&str]| Exchange {
            request: Request::get(Url::parse("http://h/").unwrap_or_else(|e| panic!("{e}"))),
            status: 200,
            headers: cookies
                .iter()
                .map(|c| ("set-cookie".to_owned(), (*c).to_owned()))
                .collect(),
            body: String::new(),
            elapsed: std::time::Duration::ZERO,
        };
        let mut jar: Jar = Vec::new();
        update(&mut jar, &exchange(&["sid=one; Path=/", "theme=dark"]));
        update(&mut jar, &exchange(&["sid=two; HttpOnly"]));
        assert_eq!(
            jar,
            [
                ("sid".to_owned(), "two".to_owned()),
                ("theme".to_owned(), "dark".to_owned())
            ]
        );
        update(
            &mut jar,
            &exchange(&["sid=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]),
        );
        assert_eq!(jar, [("theme".to_owned(), "dark".to_owned())]);
    }
}
