//! Parties: the suppliers goods come from and the customers they go to, with a customer's
//! billing and shipping addresses.
//!
//! Codes are unique per organisation; a customer has at most one default address of each kind,
//! held by a partial unique index, so two requests making different addresses the default cannot
//! both win. Every reference goes through `tenant_id`.

use sea_orm_migration::prelude::*;

use crate::tenant_wall::{fence_tenant_table, index, same_tenant_fk, tenant_fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000012_parties"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Suppliers {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    ContactName,
    Email,
    Phone,
    AddressLine1,
    AddressLine2,
    City,
    PostalCode,
    Country,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Customers {
    Table,
    Id,
    TenantId,
    Code,
    Name,
    ContactName,
    Email,
    Phone,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerAddresses {
    Table,
    Id,
    TenantId,
    CustomerId,
    Kind,
    IsDefault,
    Label,
    AddressLine1,
    AddressLine2,
    City,
    PostalCode,
    Country,
    CreatedAt,
}

/// Columns every party has: who it is and how to reach it.
fn party_columns(
    table: &mut TableCreateStatement,
    columns: [DynIden; 10],
) -> &mut TableCreateStatement {
    let [
        id,
        tenant,
        code,
        name,
        contact,
        email,
        phone,
        active,
        created,
        updated,
    ] = columns;
    table
        .col(ColumnDef::new(id).uuid().not_null().primary_key())
        .col(ColumnDef::new(tenant).uuid().not_null())
        .col(ColumnDef::new(code).string().not_null())
        .col(ColumnDef::new(name).string().not_null())
        .col(ColumnDef::new(contact).string().not_null())
        .col(ColumnDef::new(email).string().not_null())
        .col(ColumnDef::new(phone).string().not_null())
        .col(ColumnDef::new(active).boolean().not_null())
        .col(
            ColumnDef::new(created)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(updated)
                .timestamp_with_time_zone()
                .not_null(),
        )
}

/// The postal address columns a supplier and a customer address share.
fn address_columns(
    table: &mut TableCreateStatement,
    columns: [DynIden; 5],
) -> &mut TableCreateStatement {
    for column in columns {
        table.col(ColumnDef::new(column).string().not_null());
    }
    table
}

#[expect(
    elided_lifetimes_in_paths,
    reason = "the trait is declared with an elided lifetime"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Suppliers as S;
        let mut suppliers = Table::create();
        suppliers.table(S::Table);
        party_columns(
            &mut suppliers,
            [
                S::Id.into_iden(),
                S::TenantId.into_iden(),
                S::Code.into_iden(),
                S::Name.into_iden(),
                S::ContactName.into_iden(),
                S::Email.into_iden(),
                S::Phone.into_iden(),
                S::IsActive.into_iden(),
                S::CreatedAt.into_iden(),
                S::UpdatedAt.into_iden(),
            ],
        );
        address_columns(
            &mut suppliers,
            [
                S::AddressLine1.into_iden(),
                S::AddressLine2.into_iden(),
                S::City.into_iden(),
                S::PostalCode.into_iden(),
                S::Country.into_iden(),
            ],
        );
        suppliers.foreign_key(&mut tenant_fk(S::Table, S::TenantId));
        manager.create_table(suppliers.to_owned()).await?;
        unique(
            manager,
            "suppliers_tenant_id",
            S::Table,
            vec![S::TenantId.into_iden(), S::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "suppliers_tenant_code",
            S::Table,
            vec![S::TenantId.into_iden(), S::Code.into_iden()],
        )
        .await?;
        index(
            manager,
            "suppliers_tenant_name",
            S::Table,
            vec![
                S::TenantId.into_iden(),
                S::Name.into_iden(),
                S::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "suppliers", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        use Customers as C;
        let mut customers = Table::create();
        customers.table(C::Table);
        party_columns(
            &mut customers,
            [
                C::Id.into_iden(),
                C::TenantId.into_iden(),
                C::Code.into_iden(),
                C::Name.into_iden(),
                C::ContactName.into_iden(),
                C::Email.into_iden(),
                C::Phone.into_iden(),
                C::IsActive.into_iden(),
                C::CreatedAt.into_iden(),
                C::UpdatedAt.into_iden(),
            ],
        );
        customers.foreign_key(&mut tenant_fk(C::Table, C::TenantId));
        manager.create_table(customers.to_owned()).await?;
        unique(
            manager,
            "customers_tenant_id",
            C::Table,
            vec![C::TenantId.into_iden(), C::Id.into_iden()],
        )
        .await?;
        unique(
            manager,
            "customers_tenant_code",
            C::Table,
            vec![C::TenantId.into_iden(), C::Code.into_iden()],
        )
        .await?;
        index(
            manager,
            "customers_tenant_name",
            C::Table,
            vec![
                C::TenantId.into_iden(),
                C::Name.into_iden(),
                C::Id.into_iden(),
            ],
        )
        .await?;
        fence_tenant_table(manager, "customers", "tenant_id", "SELECT, INSERT, UPDATE").await?;

        use CustomerAddresses as A;
        let mut addresses = Table::create();
        addresses
            .table(A::Table)
            .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(A::TenantId).uuid().not_null())
            .col(ColumnDef::new(A::CustomerId).uuid().not_null())
            .col(ColumnDef::new(A::Kind).string().not_null())
            .col(ColumnDef::new(A::IsDefault).boolean().not_null())
            .col(ColumnDef::new(A::Label).string().not_null());
        address_columns(
            &mut addresses,
            [
                A::AddressLine1.into_iden(),
                A::AddressLine2.into_iden(),
                A::City.into_iden(),
                A::PostalCode.into_iden(),
                A::Country.into_iden(),
            ],
        );
        addresses
            .col(
                ColumnDef::new(A::CreatedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .check(Expr::col(A::Kind).is_in(["billing", "shipping"]))
            .foreign_key(&mut tenant_fk(A::Table, A::TenantId))
            .foreign_key(&mut same_tenant_fk(
                A::Table,
                A::TenantId,
                A::CustomerId,
                C::Table,
                C::TenantId,
                C::Id,
            ));
        manager.create_table(addresses.to_owned()).await?;
        unique(
            manager,
            "customer_addresses_tenant_id",
            A::Table,
            vec![A::TenantId.into_iden(), A::Id.into_iden()],
        )
        .await?;
        index(
            manager,
            "customer_addresses_tenant_customer",
            A::Table,
            vec![
                A::TenantId.into_iden(),
                A::CustomerId.into_iden(),
                A::Id.into_iden(),
            ],
        )
        .await?;
        // One default per customer and kind; both engines take partial unique indexes.
        manager
            .create_index(
                Index::create()
                    .name("customer_addresses_one_default")
                    .table(A::Table)
                    .col(A::TenantId)
                    .col(A::CustomerId)
                    .col(A::Kind)
                    .unique()
                    .and_where(Expr::col(A::IsDefault).eq(true))
                    .to_owned(),
            )
            .await?;
        fence_tenant_table(
            manager,
            "customer_addresses",
            "tenant_id",
            "SELECT, INSERT, UPDATE, DELETE",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CustomerAddresses::Table.into_iden(),
            Customers::Table.into_iden(),
            Suppliers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
