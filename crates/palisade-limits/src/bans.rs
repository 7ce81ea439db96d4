//! [`BanInspector`]: 403 for banned addresses and networks, decided at the request-headers phase.

use http::StatusCode;
use palisade_core::{
    EventOutcome, ExchangeSummary, Inspection, Inspector, RequestHead, SecurityEvent, Severity,
    Verdict,
};
use palisade_state::{Ban, StateStore};

/// Refuses requests from banned clients (see [`StateStore::ban`]). Put it first in the
/// inspector list: the check is one in-memory lookup.
#[derive(Debug, Clone)]
pub struct BanInspector {
    store: StateStore,
}

impl BanInspector {
    /// Checks bans in `store`.
    pub fn new(store: StateStore) -> Self {
        BanInspector { store }
    }
}

impl Inspector for BanInspector {
    fn name(&self) -> &str {
        "bans"
    }

    fn wants_request_body(&self) -> bool {
        false
    }

    fn start(&self, head: &RequestHead) -> Box<dyn Inspection> {
        Box::new(BanInspection {
            ban: self.store.is_banned(head.client_addr.ip()),
        })
    }
}

struct BanInspection {
    ban: Option<Ban>,
}

impl Inspection for BanInspection {
    fn request_headers(&mut self, _head: &RequestHead) -> Verdict {
        match &self.ban {
            Some(ban) => Verdict::Block {
                status: StatusCode::FORBIDDEN,
                reason: format!("client banned ({})", ban.network),
                rule_ids: vec!["palisade-ban".to_owned()],
            },
            None => Verdict::Allow,
        }
    }

    fn logging(&mut self, head: &RequestHead, _summary: &ExchangeSummary) -> Vec<SecurityEvent> {
        let mut events = crate::store::take_backend_events();
        if let Some(ban) = &self.ban {
            let mut event = SecurityEvent::new(
                "authz_fail",
                "web",
                Severity::Medium,
                format!("request from banned {} refused", ban.network),
            );
            event.outcome = EventOutcome::Failure;
            event.request_id = Some(head.request_id.clone());
            event.source_ip = Some(head.client_addr.ip());
            event.route = Some(head.route.clone());
            event.rule_ids = vec!["palisade-ban".to_owned()];
            let fields = &mut event.fields;
            fields.insert("palisade.reason".to_owned(), "banned".into());
            fields.insert(
                "palisade.ban.network".to_owned(),
                ban.network.to_string().into(),
            );
            fields.insert("palisade.ban.reason".to_owned(), ban.reason.clone().into());
            fields.insert("palisade.ban.source".to_owned(), ban.source.clone().into());
            events.push(event);
        }
        events
    }
}
