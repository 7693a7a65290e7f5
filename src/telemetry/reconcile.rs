//! The reconciliation sweep's metric families: sweeps by result, contacts scanned and
//! repairs (events synthesized for a change whose webhook never arrived).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SweepLabels {
    pub connection: String,
    /// `done`, `busy` (another replica holds the location's sweep) or `failed`.
    pub result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectionLabels {
    pub connection: String,
}

/// Registered together under `bridge_reconcile_*`.
#[derive(Clone, Default)]
pub struct ReconcileFamilies {
    pub sweeps: Family<SweepLabels, Counter>,
    pub contacts_scanned: Family<ConnectionLabels, Counter>,
    pub repairs: Family<ConnectionLabels, Counter>,
}

impl ReconcileFamilies {
    pub fn register(registry: &mut Registry) -> Self {
        let families = Self::default();
        registry.register(
            "reconcile_sweeps",
            "GHL reconciliation sweeps by result",
            families.sweeps.clone(),
        );
        registry.register(
            "reconcile_contacts_scanned",
            "GHL contacts a sweep compared with their last known state",
            families.contacts_scanned.clone(),
        );
        registry.register(
            "reconcile_repairs",
            "Events a sweep synthesized for a GHL change no webhook delivered",
            families.repairs.clone(),
        );
        families
    }

    pub fn sweep(&self, connection: &str, result: &str) {
        let labels = SweepLabels {
            connection: connection.to_owned(),
            result: result.to_owned(),
        };
        self.sweeps.get_or_create(&labels).inc();
    }

    pub fn scanned(&self, connection: &str, count: u64) {
        self.contacts_scanned
            .get_or_create(&connection_labels(connection))
            .inc_by(count);
    }

    pub fn repaired(&self, connection: &str, count: u64) {
        self.repairs
            .get_or_create(&connection_labels(connection))
            .inc_by(count);
    }
}

fn connection_labels(connection: &str) -> ConnectionLabels {
    ConnectionLabels {
        connection: connection.to_owned(),
    }
}
