//! The 48 permissions, their fixed bit positions, and permission sets.
//!
//! Bit positions are part of the stored data (role masks and user overrides are 64-bit integers):
//! they never change and are never reused. New permissions are not possible within the 48; a
//! change to this list is a data migration.

use async_graphql::Enum;

macro_rules! permissions {
    ($(#[doc = $doc:literal] $name:ident = $bit:literal,)*) => {
        /// One thing a user may do. The GraphQL name is the SCREAMING_SNAKE_CASE form.
        #[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $(#[doc = $doc] $name,)*
        }

        impl Permission {
            /// Every permission, in bit order.
            pub const ALL: &'static [Permission] = &[$(Permission::$name,)*];

            /// What the permission allows, in a few words.
            pub fn description(self) -> &'static str {
                match self {
                    $(Permission::$name => $doc.trim_ascii(),)*
                }
            }

            /// The fixed bit position, 0..=47.
            pub const fn bit(self) -> u8 {
                match self {
                    $(Permission::$name => $bit,)*
                }
            }
        }
    };
}

permissions! {
    /// See products, their barcodes and units.
    ProductsView = 0,
    /// Create products.
    ProductsCreate = 1,
    /// Change products.
    ProductsEdit = 2,
    /// Archive and restore products.
    ProductsArchive = 3,
    /// See warehouses.
    WarehousesView = 4,
    /// Create, change and archive warehouses.
    WarehousesManage = 5,
    /// See locations (bins).
    LocationsView = 6,
    /// Create, change and archive locations.
    LocationsManage = 7,
    /// See stock on hand and movements.
    StockView = 8,
    /// Post stock adjustments.
    StockAdjust = 9,
    /// Transfer stock between locations.
    StockTransfer = 10,
    /// Record stock counts for someone else to approve (posting a count needs STOCK_COUNT_APPROVE).
    StockCount = 11,
    /// Post counted variances to stock.
    StockCountApprove = 12,
    /// See suppliers.
    SuppliersView = 13,
    /// Create and change suppliers.
    SuppliersManage = 14,
    /// See receipts (goods in).
    ReceiptsView = 15,
    /// Create receipts.
    ReceiptsCreate = 16,
    /// Receive goods against receipts.
    ReceiptsReceive = 17,
    /// See customers.
    CustomersView = 18,
    /// Create and change customers.
    CustomersManage = 19,
    /// See orders.
    OrdersView = 20,
    /// Create orders.
    OrdersCreate = 21,
    /// Change orders.
    OrdersEdit = 22,
    /// Cancel orders.
    OrdersCancel = 23,
    /// See pick lists.
    PickingView = 24,
    /// Pick goods.
    PickingPerform = 25,
    /// See dispatches.
    DispatchView = 26,
    /// Dispatch goods.
    DispatchPerform = 27,
    /// See carriers.
    CarriersView = 28,
    /// Create and change carriers.
    CarriersManage = 29,
    /// See shipments.
    ShipmentsView = 30,
    /// Create shipments.
    ShipmentsCreate = 31,
    /// Update shipment status and tracking.
    ShipmentsUpdate = 32,
    /// See the organisation's users.
    UsersView = 33,
    /// Invite (create) users.
    UsersInvite = 34,
    /// Change users' roles, reset their passwords, deactivate and reactivate them.
    UsersManage = 35,
    /// Set per-user permission overrides.
    UsersOverride = 36,
    /// See roles and their permissions.
    RolesView = 37,
    /// Create, change and delete custom roles.
    RolesManage = 38,
    /// Read the audit log.
    AuditView = 39,
    /// Verify the audit log's hash chain.
    AuditVerify = 40,
    /// Download a backup of the organisation's data.
    BackupsDownload = 41,
    /// See the organisation's settings.
    OrganisationView = 42,
    /// Change the organisation's name and settings.
    OrganisationEdit = 43,
    /// See reports.
    ReportsView = 44,
    /// Export reports.
    ReportsExport = 45,
    /// See integrations (API clients, webhooks).
    IntegrationsView = 46,
    /// Manage integrations.
    IntegrationsManage = 47,
}

impl Permission {
    /// The name clients see (the GraphQL enum value), e.g. `PRODUCTS_VIEW`.
    pub fn name(self) -> &'static str {
        <Self as async_graphql::resolver_utils::EnumType>::items()
            .iter()
            .find(|item| item.value == self)
            .map_or("UNKNOWN_PERMISSION", |item| item.name)
    }
}

/// A set of permissions, stored as a 64-bit integer (bits 0..=47).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u64);

impl PermissionSet {
    pub const EMPTY: Self = Self(0);
    /// Every defined bit.
    pub const ALL: Self = Self((1 << 48) - 1);

    /// Reads a stored mask; bits outside 0..=47 are dropped.
    pub fn from_stored(mask: i64) -> Self {
        Self(mask as u64 & Self::ALL.0)
    }

    pub fn to_stored(self) -> i64 {
        // At most 48 bits are set, so this is always non-negative.
        self.0 as i64
    }

    pub fn of(permissions: &[Permission]) -> Self {
        Self(permissions.iter().fold(0, |mask, p| mask | 1 << p.bit()))
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & (1 << permission.bit()) != 0
    }

    /// `(role | grant) & !revoke`: a user's effective permissions.
    pub fn effective(role: Self, grant: Self, revoke: Self) -> Self {
        Self((role.0 | grant.0) & !revoke.0)
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every permission in `self` is also in `other`.
    pub fn is_subset_of(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions in `self` that `other` lacks.
    pub fn minus(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(|p| self.contains(*p))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn exactly_48_distinct_bits_in_order() {
        assert_eq!(Permission::ALL.len(), 48);
        let bits: HashSet<u8> = Permission::ALL.iter().map(|p| p.bit()).collect();
        assert_eq!(bits.len(), 48);
        for (index, permission) in Permission::ALL.iter().enumerate() {
            assert_eq!(usize::from(permission.bit()), index, "{permission:?}");
        }
        assert_eq!(PermissionSet::of(Permission::ALL), PermissionSet::ALL);
    }

    #[test]
    fn names_are_the_graphql_enum_values() {
        assert_eq!(Permission::ProductsView.name(), "PRODUCTS_VIEW");
        assert_eq!(Permission::IntegrationsManage.name(), "INTEGRATIONS_MANAGE");
    }

    #[test]
    fn effective_is_role_or_grant_minus_revoke() {
        let role = PermissionSet::of(&[Permission::ProductsView, Permission::StockView]);
        let grant = PermissionSet::of(&[Permission::StockAdjust]);
        let revoke = PermissionSet::of(&[Permission::StockView]);
        let effective = PermissionSet::effective(role, grant, revoke);
        assert_eq!(
            effective.permissions(),
            vec![Permission::ProductsView, Permission::StockAdjust]
        );
        // A revoke beats a grant of the same bit.
        let both = PermissionSet::effective(PermissionSet::EMPTY, revoke, revoke);
        assert_eq!(both, PermissionSet::EMPTY);
    }

    #[test]
    fn stored_masks_round_trip_and_ignore_unknown_bits() {
        let set = PermissionSet::of(&[Permission::IntegrationsManage, Permission::ProductsView]);
        assert_eq!(PermissionSet::from_stored(set.to_stored()), set);
        assert_eq!(PermissionSet::from_stored(-1), PermissionSet::ALL);
    }
}
