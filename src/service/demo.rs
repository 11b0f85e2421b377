//! A believable small warehouse for the demo organisation, so a newcomer in GraphiQL sees
//! something real: two warehouses with locations, carriers with their service levels, a few
//! hundred products, stock and some history, and orders, shipments and returns in every state.

use entity::{
    LocationId, LocationKind, ProductId, SalesOrderId, ShipmentStatus, SupplierId, Tracking,
    WarehouseId,
};

use crate::error::AppResult;
use crate::service::{
    allocating, carriers, catalogue, dispatching, ledger, parties, picking, places, purchasing,
    putaway, receiving, returns, selling, shipping, stock,
};
use crate::tenancy::TenantDb;

/// A product family: every combination of its two variant lists is one product.
struct Family {
    prefix: &'static str,
    name: &'static str,
    unit: &'static str,
    first: &'static [&'static str],
    second: &'static [&'static str],
    /// Lot-tracked with expiry dates.
    perishable: bool,
}

const FAMILIES: &[Family] = &[
    Family {
        prefix: "BLT",
        name: "Hex bolt",
        unit: "each",
        first: &["M4", "M5", "M6", "M8", "M10", "M12"],
        second: &[
            "x 20 mm", "x 30 mm", "x 40 mm", "x 50 mm", "x 60 mm", "x 80 mm", "x 100 mm",
        ],
        perishable: false,
    },
    Family {
        prefix: "NUT",
        name: "Hex nut",
        unit: "each",
        first: &[
            "M3", "M4", "M5", "M6", "M8", "M10", "M12", "M14", "M16", "M20",
        ],
        second: &["zinc", "stainless"],
        perishable: false,
    },
    Family {
        prefix: "WSH",
        name: "Flat washer",
        unit: "each",
        first: &[
            "M3", "M4", "M5", "M6", "M8", "M10", "M12", "M14", "M16", "M20",
        ],
        second: &["zinc", "stainless", "nylon"],
        perishable: false,
    },
    Family {
        prefix: "SCR",
        name: "Wood screw",
        unit: "each",
        first: &["3.5", "4.0", "4.5", "5.0", "6.0"],
        second: &["x 20 mm", "x 30 mm", "x 40 mm", "x 50 mm", "x 60 mm"],
        perishable: false,
    },
    Family {
        prefix: "CBL",
        name: "Cable tie",
        unit: "pack of 100",
        first: &["100 mm", "150 mm", "200 mm", "300 mm", "370 mm"],
        second: &["black", "white", "natural"],
        perishable: false,
    },
    Family {
        prefix: "GLV",
        name: "Work gloves",
        unit: "pair",
        first: &["nitrile", "leather", "cotton", "cut-resistant"],
        second: &["S", "M", "L", "XL"],
        perishable: false,
    },
    Family {
        prefix: "TPE",
        name: "Duct tape",
        unit: "roll",
        first: &["silver", "black", "red", "blue", "yellow"],
        second: &["25 m", "50 m"],
        perishable: false,
    },
    Family {
        prefix: "PNT",
        name: "Spray paint",
        unit: "can",
        first: &[
            "red", "blue", "black", "white", "grey", "yellow", "green", "orange",
        ],
        second: &["gloss", "matt"],
        perishable: true,
    },
    Family {
        prefix: "OIL",
        name: "Engine oil",
        unit: "bottle",
        first: &["5W-30", "10W-40", "15W-40", "5W-40"],
        second: &["1 L", "5 L", "20 L"],
        perishable: true,
    },
    Family {
        prefix: "BRG",
        name: "Ball bearing",
        unit: "each",
        first: &[
            "6000", "6001", "6002", "6003", "6004", "6005", "6006", "6200", "6201", "6202", "6203",
            "6204", "6205",
        ],
        second: &["open", "2RS"],
        perishable: false,
    },
    Family {
        prefix: "HSE",
        name: "Garden hose",
        unit: "each",
        first: &["12 mm", "19 mm"],
        second: &["15 m", "20 m", "30 m", "50 m"],
        perishable: false,
    },
];

/// A carrier and its service levels (code, name).
struct Carrier {
    code: &'static str,
    name: &'static str,
    tracking_url_template: &'static str,
    services: &'static [(&'static str, &'static str)],
}

const CARRIERS: &[Carrier] = &[
    Carrier {
        code: "DHL",
        name: "DHL Express",
        tracking_url_template: "https://www.dhl.com/global-en/home/tracking.html?tracking-id={tracking}",
        services: &[
            ("EXPRESS", "Express Worldwide"),
            ("ECONOMY", "Economy Select"),
        ],
    },
    Carrier {
        code: "TCG",
        name: "Courier Guy",
        tracking_url_template: "https://portal.thecourierguy.co.za/track?ref={tracking}",
        services: &[("OVERNIGHT", "Overnight"), ("ROAD", "Road freight")],
    },
];

/// Fills an (empty) organisation with demo data; returns how many products it made.
pub async fn fill(db: &TenantDb) -> AppResult<usize> {
    // The carriers that take shipments away, each with its service levels.
    for demo in CARRIERS {
        let carrier = carriers::create_carrier(
            db,
            carriers::CarrierInput {
                code: demo.code.into(),
                name: demo.name.into(),
                tracking_url_template: demo.tracking_url_template.into(),
            },
        )
        .await?;
        for (code, name) in demo.services {
            let service = carriers::ServiceInput {
                code: (*code).into(),
                name: (*name).into(),
            };
            carriers::add_service(db, carrier.id, service).await?;
        }
    }

    // Each storage bin with the receiving dock of its own warehouse: put-away never crosses
    // warehouses.
    let mut storage: Vec<(LocationId, LocationId)> = Vec::new();
    let mut warehouses = Vec::new();
    let mut docks = Vec::new();
    let mut quarantines = Vec::new();
    for (code, name, city) in [
        ("JHB1", "Johannesburg DC", "Johannesburg"),
        ("CPT1", "Cape Town depot", "Cape Town"),
    ] {
        let warehouse = places::create_warehouse(
            db,
            places::WarehouseInput {
                code: code.into(),
                name: name.into(),
                address_line1: "1 Demo Road".into(),
                address_line2: String::new(),
                city: city.into(),
                postal_code: "0001".into(),
                country: "ZA".into(),
            },
        )
        .await?;
        warehouses.push(warehouse.id);
        let add = async |code: String, kind: LocationKind, pickable: bool| {
            places::create_location(
                db,
                places::LocationInput {
                    warehouse_id: warehouse.id,
                    code,
                    kind,
                    pickable,
                },
            )
            .await
        };
        let dock = add("RCV-01".into(), LocationKind::Receiving, false)
            .await?
            .id;
        docks.push(dock);
        add("SHP-01".into(), LocationKind::Shipping, false).await?;
        let quarantine = add("QUA-01".into(), LocationKind::Quarantine, false).await?;
        quarantines.push(quarantine.id);
        for aisle in ["A", "B", "C"] {
            for bay in 1..=4 {
                let picking = aisle == "A";
                let kind = if picking {
                    LocationKind::Picking
                } else {
                    LocationKind::Storage
                };
                let bin = add(format!("{aisle}-{bay:02}-01"), kind, picking).await?;
                storage.push((bin.id, dock));
            }
        }
    }

    let suppliers = fill_parties(db).await?;

    let mut products: Vec<(ProductId, bool)> = Vec::new();
    for family in FAMILIES {
        let mut number = 0;
        for first in family.first {
            for second in family.second {
                number += 1;
                let sku = format!("{}-{number:03}", family.prefix);
                let product = catalogue::create(
                    db,
                    catalogue::ProductInput {
                        barcodes: vec![format!("600{:010}", products.len() * 7919 + 1000)],
                        name: format!("{} {first} {second}", family.name),
                        sku,
                        description: format!(
                            "{} {first} {second}, sold per {}.",
                            family.name, family.unit
                        ),
                        base_unit: family.unit.into(),
                        tracking: if family.perishable {
                            Tracking::Lot
                        } else {
                            Tracking::None
                        },
                        expiry_required: family.perishable,
                        reorder_point: 20,
                        reorder_quantity: 100,
                        weight_grams: None,
                        length_mm: None,
                        width_mm: None,
                        height_mm: None,
                        units: vec![("case".into(), 12)],
                    },
                )
                .await?;
                products.push((product.id, family.perishable));
            }
        }
    }

    // Stock and history: a receipt into each product's home bin, some moved on, some counted.
    let first_lot = || ledger::LotInput {
        code: "LOT-2026-11".into(),
        expires_on: chrono::NaiveDate::from_ymd_opt(2028, 6, 30),
    };
    for (index, (product, perishable)) in products.iter().enumerate() {
        let lot = perishable.then(first_lot);
        let (home, dock) = storage[index % storage.len()];
        let quantity = i64::try_from(((index * 37) % 180) + 5).unwrap_or(5);
        stock::adjust(
            db,
            stock::AdjustInput {
                product_id: *product,
                location_id: dock,
                lot: lot.clone(),
                change: quantity,
                reason: "opening".into(),
                note: "opening balance".into(),
                idempotency_key: None,
            },
        )
        .await?;
        stock::transfer(
            db,
            stock::TransferInput {
                product_id: *product,
                from_location_id: dock,
                to_location_id: home,
                lot: lot.clone(),
                quantity,
                note: "put away".into(),
                idempotency_key: None,
            },
        )
        .await?;
        if index % 9 == 0 {
            stock::count(
                db,
                stock::CountInput {
                    product_id: *product,
                    location_id: home,
                    lot,
                    counted: quantity - 1,
                    note: "cycle count".into(),
                    idempotency_key: None,
                },
            )
            .await?;
        }
    }
    fill_purchase_orders(db, &suppliers, &warehouses, &docks, &storage, &products).await?;
    // Products 0 to 3 and 24 to 27 lie in the pickable A bins of the first warehouse; these
    // four have stock enough for a day's orders (product 0 has only 4 units).
    let sellable: Vec<ProductId> = [24, 1, 2, 25]
        .into_iter()
        .filter_map(|index| products.get(index).map(|(id, _)| *id))
        .collect();
    let orders = fill_sales_orders(db, warehouses[0], &sellable).await?;
    // Returns come back to the first warehouse's quarantine; restocked into its first A bin.
    fill_shipments_and_returns(db, &orders, quarantines[0], storage[0].0).await?;
    Ok(products.len())
}

/// Sales orders in every state of a working day, all from the first warehouse: one being
/// written, one confirmed, one allocated with a back-order, one on a pick list half picked, one
/// packed, one cancelled after allocation, and five dispatched (their shipments and returns are
/// made by [`fill_shipments_and_returns`]). Returns the orders by the index the comments use.
async fn fill_sales_orders(
    db: &TenantDb,
    warehouse: WarehouseId,
    products: &[ProductId],
) -> AppResult<Vec<SalesOrderId>> {
    use sea_orm::{EntityTrait, QueryOrder};
    const DISPATCHED: [usize; 5] = [5, 7, 8, 9, 10];
    let customers: Vec<entity::CustomerId> = db
        .read()
        .await?
        .all(entity::customer::Entity::find().order_by_asc(entity::customer::Column::Code))
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let today = chrono::Utc::now().date_naive();
    let mut made = Vec::new();
    for (n, customer) in customers.iter().cycle().take(11).enumerate() {
        let line = |index: usize, quantity: i64| selling::LineInput {
            product_id: products[index % products.len()],
            quantity,
        };
        // The third wants more of its second product than there is: a back-order.
        let lines = if n == 2 {
            vec![line(1, 2), line(2, 100)]
        } else {
            vec![line(n, 1), line(n + 1, 2)]
        };
        let (order, _) = selling::create(
            db,
            selling::DraftInput {
                customer_id: *customer,
                warehouse_id: warehouse,
                shipping_address_id: None,
                requested_ship_on: today.checked_add_days(chrono::Days::new(n as u64 % 3)),
                note: String::new(),
                lines,
            },
        )
        .await?;
        made.push(order.id);
    }
    for id in &made[1..] {
        selling::confirm(db, *id).await?;
    }
    // The back-order last, so that it takes only what the others leave.
    for id in made[3..].iter().chain([&made[2]]) {
        allocating::allocate(db, *id, allocating::Shortage::Backorder, None).await?;
    }
    let picked: Vec<SalesOrderId> = [3, 4]
        .into_iter()
        .chain(DISPATCHED)
        .map(|n| made[n])
        .collect();
    picking::create_pick_list(db, vec![made[3]]).await?;
    picking::create_pick_list(db, picked[1..].to_vec()).await?;
    // The fourth is half picked; the rest on the lists fully, then packed (and sent).
    for (index, id) in picked.iter().enumerate() {
        let picks = allocating::of_orders(db, &[*id]).await?;
        let take = if index == 0 { 1 } else { picks.len() };
        for pick in picks.iter().take(take) {
            picking::confirm_pick(
                db,
                picking::PickConfirmation {
                    allocation_id: pick.id,
                    quantity: pick.quantity,
                    short_pick: None,
                    staging_location_id: None,
                    idempotency_key: None,
                },
            )
            .await?;
        }
    }
    let package = dispatching::PackageInput {
        weight_grams: 2_400,
        length_mm: 400,
        width_mm: 300,
        height_mm: 250,
    };
    for id in &picked[1..] {
        dispatching::pack(db, *id, vec![package]).await?;
    }
    for n in DISPATCHED {
        dispatching::dispatch(db, made[n], None).await?;
    }
    selling::cancel(db, made[6]).await?;
    Ok(made)
}

/// Shipments in every state and returns in every state, from the orders
/// [`fill_sales_orders`] made: the packed order's shipment is booked (CREATED); of the dispatched
/// ones, one is on the road, one met an exception, and three were delivered, of which one came
/// back and waits in quarantine, one was half dispositioned and one was settled in full.
async fn fill_shipments_and_returns(
    db: &TenantDb,
    orders: &[SalesOrderId],
    quarantine: LocationId,
    restock_bin: LocationId,
) -> AppResult<()> {
    use sea_orm::{EntityTrait, QueryOrder};
    let services = db
        .read()
        .await?
        .all(
            entity::carrier_service::Entity::find()
                .order_by_asc(entity::carrier_service::Column::Id),
        )
        .await?;
    let (Some(first), Some(last)) = (services.first(), services.last()) else {
        return Ok(());
    };
    // Every report is timed now: a shipment's history may not start before it was booked.
    let mut shipped = Vec::new();
    for (n, order) in [4, 5, 7, 8, 9, 10].into_iter().map(|n| (n, orders[n])) {
        let service = if n % 2 == 0 { first } else { last };
        let shipment = shipping::create(
            db,
            shipping::ShipmentInput {
                sales_order_id: order,
                carrier_service_id: service.id,
                tracking_number: format!("DEMO{:06}", 4_100 + n),
                package_ids: None,
            },
        )
        .await?;
        shipped.push((n, shipment.id));
    }
    for (n, shipment) in shipped {
        match n {
            // Booked with the carrier, not yet collected.
            4 => {}
            5 => {
                shipping::update_status(db, shipment, ShipmentStatus::InTransit, "collected", None)
                    .await?;
            }
            7 => {
                shipping::update_status(db, shipment, ShipmentStatus::InTransit, "collected", None)
                    .await?;
                shipping::update_status(
                    db,
                    shipment,
                    ShipmentStatus::Exception,
                    "address not found; the driver is calling the customer",
                    None,
                )
                .await?;
            }
            _ => {
                shipping::update_status(db, shipment, ShipmentStatus::InTransit, "collected", None)
                    .await?;
                shipping::confirm_delivery(db, shipment, "Receiving clerk", None).await?;
            }
        }
    }
    for n in [8, 9, 10] {
        let lines = selling::lines_of(db, &[orders[n]]).await?;
        let (_, returned) = returns::receive(
            db,
            returns::ReceiveReturnInput {
                sales_order_id: orders[n],
                location_id: quarantine,
                reason: "damaged in transit".into(),
                note: String::new(),
                idempotency_key: None,
                lines: lines
                    .iter()
                    .filter(|line| line.quantity_dispatched > 0)
                    .map(|line| returns::ReturnLineInput {
                        sales_order_line_id: line.id,
                        quantity: 1,
                        lot_code: None,
                    })
                    .collect(),
            },
        )
        .await?;
        // The ninth's first line is back on the shelf; the tenth's first restocked, the second
        // scrapped.
        let settle = match n {
            9 => 1,
            10 => returned.len(),
            _ => 0,
        };
        for (index, line) in returned.iter().take(settle).enumerate() {
            let restock = index == 0;
            returns::disposition(
                db,
                returns::DispositionInput {
                    return_line_id: line.id,
                    restock: restock.then_some(returns::Restock {
                        quantity: line.quantity_returned,
                        location_id: restock_bin,
                    }),
                    scrap: (!restock).then_some(line.quantity_returned),
                    idempotency_key: None,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Purchase orders in the states a morning finds them in: one being written, some placed and
/// due over the next days, one received in full and one in part, one cancelled. Of the full
/// receipt's put-away tasks the first is done and the second half done; the rest, and the part
/// receipt's, are open.
async fn fill_purchase_orders(
    db: &TenantDb,
    suppliers: &[SupplierId],
    warehouses: &[WarehouseId],
    docks: &[LocationId],
    storage: &[(LocationId, LocationId)],
    products: &[(ProductId, bool)],
) -> AppResult<()> {
    /// How much of a placed order has arrived.
    #[derive(Clone, Copy, PartialEq)]
    enum Arrived {
        Nothing,
        FirstLineHalf,
        Everything,
    }
    let today = chrono::Utc::now().date_naive();
    for (n, (days, place, arrived, cancel)) in [
        (7, false, Arrived::Nothing, false),
        (1, true, Arrived::Nothing, false),
        (2, true, Arrived::Nothing, false),
        (0, true, Arrived::FirstLineHalf, false),
        (-1, true, Arrived::Everything, false),
        (5, true, Arrived::Nothing, true),
    ]
    .into_iter()
    .enumerate()
    {
        let lines: Vec<purchasing::LineInput> = (0..3 + n)
            .map(|i| purchasing::LineInput {
                product_id: products[(n * 17 + i * 5) % products.len()].0,
                quantity: i64::try_from(24 * (i + 1)).unwrap_or(24),
                expected_on: None,
            })
            .collect();
        let (order, stored) = purchasing::create(
            db,
            purchasing::DraftInput {
                supplier_id: suppliers[n % suppliers.len()],
                warehouse_id: warehouses[n % warehouses.len()],
                expected_on: today.checked_add_signed(chrono::Duration::days(days)),
                note: String::new(),
                lines,
            },
        )
        .await?;
        if place {
            purchasing::place(db, order.id).await?;
        }
        if arrived != Arrived::Nothing {
            let perishable: std::collections::HashMap<ProductId, bool> =
                products.iter().copied().collect();
            let take = if arrived == Arrived::Everything {
                stored.len()
            } else {
                1
            };
            let lines = stored
                .iter()
                .take(take)
                .map(|line| receiving::ReceiveLine {
                    purchase_order_line_id: Some(line.id),
                    product_id: None,
                    quantity: if arrived == Arrived::Everything {
                        line.quantity_ordered
                    } else {
                        line.quantity_ordered / 2
                    },
                    lot: perishable
                        .get(&line.product_id)
                        .copied()
                        .unwrap_or(false)
                        .then(|| ledger::LotInput {
                            code: format!("LOT-{}", order.number),
                            expires_on: chrono::NaiveDate::from_ymd_opt(2028, 6, 30),
                        }),
                })
                .collect();
            let dock = docks[n % docks.len()];
            let (receipt, _) = receiving::receive(
                db,
                receiving::ReceiveInput {
                    purchase_order_id: Some(order.id),
                    supplier_id: None,
                    location_id: dock,
                    note: "delivery checked at the dock".into(),
                    idempotency_key: None,
                    lines,
                },
            )
            .await?;
            if arrived == Arrived::Everything {
                // A bin of the dock's warehouse for tasks with nothing to suggest.
                let bin = storage
                    .iter()
                    .find(|(_, bin_dock)| *bin_dock == dock)
                    .map(|(bin, _)| *bin);
                let tasks = putaway::of_receipts(db, &[receipt.id]).await?;
                for (task, half) in tasks.iter().zip([false, true]) {
                    let quantity = half.then_some(task.quantity / 2).filter(|q| *q > 0);
                    putaway::put_away(
                        db,
                        putaway::PutAwayInput {
                            task_id: task.id,
                            location_id: task.suggested_location_id.or(bin),
                            quantity,
                            idempotency_key: None,
                        },
                    )
                    .await?;
                }
            }
        }
        if cancel {
            purchasing::cancel(db, order.id).await?;
        }
    }
    Ok(())
}

/// The suppliers the demo buys from (returned) and the customers it sells to, with their
/// addresses.
async fn fill_parties(db: &TenantDb) -> AppResult<Vec<SupplierId>> {
    let mut suppliers = Vec::new();
    let address = |line1: &str, city: &str, postal_code: &str| parties::PostalAddress {
        line1: line1.into(),
        line2: String::new(),
        city: city.into(),
        postal_code: postal_code.into(),
        country: "ZA".into(),
    };
    for (code, name, contact, city) in [
        ("FASTCO", "Fastco Fasteners", "Sipho Dlamini", "Germiston"),
        ("BOLTWORX", "Boltworx Industrial", "Anita Pillay", "Durban"),
        ("SAFEHANDS", "SafeHands PPE", "Johan van Wyk", "Bellville"),
        ("TAPEKING", "Tape King Adhesives", "Lerato Nkosi", "Midrand"),
        ("CHEMSOL", "Chemsol Lubricants", "Priya Naidoo", "Pinetown"),
    ] {
        let supplier = parties::create_supplier(
            db,
            parties::SupplierInput {
                code: code.into(),
                name: name.into(),
                contact: parties::Contact {
                    name: contact.into(),
                    email: format!("orders@{}.example", code.to_lowercase()),
                    phone: "+27 11 555 0100".into(),
                },
                address: address("12 Supply Street", city, "1401"),
            },
        )
        .await?;
        suppliers.push(supplier.id);
    }
    for (code, name, sites) in [
        ("C-1001", "Highveld Hardware", &["Randburg", "Soweto"][..]),
        ("C-1002", "Coastal Builders Supply", &["Umhlanga"][..]),
        ("C-1003", "Karoo Farm & Fix", &["Beaufort West"][..]),
        (
            "C-1004",
            "Table Bay Marine",
            &["Cape Town", "Hout Bay", "Simon's Town"][..],
        ),
        ("C-1005", "Mother City Makers", &["Woodstock"][..]),
        (
            "C-1006",
            "Lowveld Agri Co-op",
            &["Mbombela", "White River"][..],
        ),
        ("C-1007", "Garden Route Timber", &["George"][..]),
        ("C-1008", "Free State Fleet Services", &["Bloemfontein"][..]),
    ] {
        let mut addresses = vec![parties::CustomerAddressInput {
            kind: entity::AddressKind::Billing,
            label: "Accounts".into(),
            address: address("1 Main Road", sites[0], "2000"),
            make_default: true,
        }];
        for site in sites {
            addresses.push(parties::CustomerAddressInput {
                kind: entity::AddressKind::Shipping,
                label: format!("{site} store"),
                address: address("Loading bay 2", site, "2001"),
                make_default: false,
            });
        }
        parties::create_customer(
            db,
            parties::CustomerInput {
                code: code.into(),
                name: name.into(),
                contact: parties::Contact {
                    name: "Receiving desk".into(),
                    email: format!("{}@customers.example", code.to_lowercase()),
                    phone: "+27 21 555 0199".into(),
                },
            },
            addresses,
        )
        .await?;
    }
    Ok(suppliers)
}
