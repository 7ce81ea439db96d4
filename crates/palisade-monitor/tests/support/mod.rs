//! Shared test helpers.
#![allow(dead_code)]

pub mod mmdb;

use std::sync::{Arc, Mutex};

use palisade_core::{EventSink, SecurityEvent};

/// An event sink that keeps everything recorded.
#[derive(Clone, Default)]
pub struct Collect(pub Arc<Mutex<Vec<SecurityEvent>>>);

impl EventSink for Collect {
    fn record(&self, event: SecurityEvent) {
        self.0.lock().expect("collect").push(event);
    }
}

impl Collect {
    pub fn actions(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("collect")
            .iter()
            .map(|e| e.action.clone())
            .collect()
    }

    pub fn events(&self) -> Vec<SecurityEvent> {
        self.0.lock().expect("collect").clone()
    }
}
