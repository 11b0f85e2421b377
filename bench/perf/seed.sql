-- Seeds every organisation whose slug is org-N (made by run.sh with `vaskem org create`): one
-- warehouse, 20 storage locations, 5,000 products and two stock balances per product at distinct
-- locations. Deterministic: ids are built from (kind, organisation, row number) in the UUIDv7
-- layout, with the row number where v7 keeps its timestamp, so a product's id sorts like its SKU
-- (the service orders stockOnHand by product id, i.e. creation order). Run as the owner or a
-- superuser (row-level security does not apply to them); balances have no movements behind them,
-- which the service accepts (only `vaskem stock verify` would object).
\set ON_ERROR_STOP on
BEGIN;

CREATE FUNCTION pg_temp.bench_id(kind int, org int, n int) RETURNS uuid
LANGUAGE sql IMMUTABLE AS $$
  SELECT (lpad(to_hex(n), 12, '0') || '7' || lpad(to_hex(kind), 3, '0') || '8'
          || lpad(to_hex(org), 15, '0'))::uuid
$$;

CREATE TEMP TABLE bench_orgs AS
  SELECT id AS tenant_id, substring(slug FROM 5)::int AS org
  FROM organisations WHERE slug ~ '^org-[0-9]+$';

INSERT INTO warehouses (id, tenant_id, code, name, address_line1, address_line2, city,
                        postal_code, country, is_active, created_at)
SELECT pg_temp.bench_id(1, org, 1), tenant_id, 'WH1', 'Bench warehouse', '1 Bench Road', '',
       'Benchton', '00100', 'FI', true, now()
FROM bench_orgs;

INSERT INTO locations (id, tenant_id, warehouse_id, code, kind, pickable, is_active, created_at)
SELECT pg_temp.bench_id(2, org, l), tenant_id, pg_temp.bench_id(1, org, 1),
       'A-' || lpad(l::text, 2, '0'), 'storage', true, true, now()
FROM bench_orgs, generate_series(1, 20) AS l;

INSERT INTO products (id, tenant_id, sku, name, description, base_unit, tracking,
                      expiry_required, reorder_point, reorder_quantity, is_active, created_at,
                      updated_at)
SELECT pg_temp.bench_id(3, org, p), tenant_id, 'SKU-' || lpad(p::text, 5, '0'),
       'Bench product ' || p, '', 'each', 'none', false, 0, 0, true,
       timestamptz '2026-11-01 00:00:00+00' + p * interval '1 millisecond',
       timestamptz '2026-11-01 00:00:00+00' + p * interval '1 millisecond'
FROM bench_orgs, generate_series(1, 5000) AS p;

-- Product p lies at locations (p mod 20) + 1 and ((p + 10) mod 20) + 1.
INSERT INTO stock_balances (tenant_id, product_id, location_id, lot_key, on_hand, reserved,
                            updated_at)
SELECT tenant_id, pg_temp.bench_id(3, org, p), pg_temp.bench_id(2, org, (p + s * 10) % 20 + 1),
       '00000000-0000-0000-0000-000000000000', 100 + (p * 7 + s) % 50, 0, now()
FROM bench_orgs, generate_series(1, 5000) AS p, generate_series(0, 1) AS s;

COMMIT;
ANALYZE;
