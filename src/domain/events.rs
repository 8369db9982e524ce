//! Events: what changed on a connected account, found by comparing what the
//! platform saw of it before with what it sees now, and rendered as Stripe's
//! `event` objects (`account.updated` with only the changed attributes,
//! `capability.updated`, `person.*`, `account.external_account.*`).
//!
//! A change is never described by the code that made it: the store renders
//! the account's *snapshot* (its object and its persons' objects) after every
//! write, and the difference from the snapshot before is the events. The same
//! rule serves a request's write and the background settling of a pending
//! verification, so an event reports exactly what a reader would have seen
//! change.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::clock::Timestamp;

use super::account::Account;
use super::ids::{AccountId, ExternalAccountId, PersonId};
use super::onboarding::requirements::Assessment;
use super::wire::{AccountObject, BankAccountObject, PersonObject, Viewer};

/// The event types this server emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// An account's status or a property changed.
    AccountUpdated,
    /// A capability's status (or requirements) changed.
    CapabilityUpdated,
    /// A person was added.
    PersonCreated,
    /// A person changed.
    PersonUpdated,
    /// A person was removed.
    PersonDeleted,
    /// A bank account was attached.
    ExternalAccountCreated,
    /// A bank account changed.
    ExternalAccountUpdated,
    /// A bank account was removed.
    ExternalAccountDeleted,
}
wire_enum!(EventType {
    AccountUpdated => "account.updated",
    CapabilityUpdated => "capability.updated",
    ExternalAccountCreated => "account.external_account.created",
    ExternalAccountDeleted => "account.external_account.deleted",
    ExternalAccountUpdated => "account.external_account.updated",
    PersonCreated => "person.created",
    PersonDeleted => "person.deleted",
    PersonUpdated => "person.updated",
});

/// An event about to be recorded: its type, the object as it now is, and
/// for an update the attributes it had before.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The event type.
    pub event_type: EventType,
    /// `data.object`
    pub object: Value,
    /// `data.previous_attributes`, for `*.updated` events.
    pub previous_attributes: Option<Value>,
}

/// What the platform sees of an account at one moment: the account object
/// and each person's object. Stored with the account after every write.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// The account object, as the platform sees it.
    pub account: Value,
    /// Each person's object, by id.
    pub persons: BTreeMap<PersonId, Value>,
    /// Each bank account's object, by id.
    #[serde(default)]
    pub external_accounts: BTreeMap<ExternalAccountId, Value>,
}

impl Snapshot {
    /// The snapshot of `account` at `now`.
    pub fn of(account: &Account, now: Timestamp) -> Self {
        let assessment = account.assess(now);
        Self::assessed(account, &assessment)
    }

    /// The snapshot of `account` with an assessment already made.
    pub fn assessed(account: &Account, assessment: &Assessment) -> Self {
        let object = AccountObject::assessed(account, assessment, Viewer::Platform);
        let persons = account
            .profile
            .identity
            .persons
            .iter()
            .map(|person| {
                let rendered = PersonObject::new(person, account, assessment);
                (person.id.clone(), to_value(&rendered))
            })
            .collect();
        let external_accounts = account
            .external_accounts
            .iter()
            .map(|bank| (bank.id.clone(), to_value(&BankAccountObject::new(bank))))
            .collect();
        Self {
            account: to_value(&object),
            persons,
            external_accounts,
        }
    }
}

/// A value as JSON; our wire types always serialize.
fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The events that turn `before` into `after`: persons and bank accounts
/// created, updated and deleted; each capability whose status changed; and
/// `account.updated` if the account object changed at all. Without a
/// `before` (a new account) only its persons and bank accounts are new.
pub fn changes(before: Option<&Snapshot>, after: &Snapshot, account: &AccountId) -> Vec<Change> {
    let mut changes = Vec::new();
    member_changes(
        before.map(|snapshot| &snapshot.persons),
        &after.persons,
        [
            EventType::PersonCreated,
            EventType::PersonUpdated,
            EventType::PersonDeleted,
        ],
        &mut changes,
    );
    member_changes(
        before.map(|snapshot| &snapshot.external_accounts),
        &after.external_accounts,
        [
            EventType::ExternalAccountCreated,
            EventType::ExternalAccountUpdated,
            EventType::ExternalAccountDeleted,
        ],
        &mut changes,
    );
    let Some(before) = before else {
        return changes;
    };
    let statuses = |snapshot: &Snapshot| -> Map<String, Value> {
        snapshot.account["capabilities"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    };
    let (old_statuses, new_statuses) = (statuses(before), statuses(after));
    for (name, status) in &new_statuses {
        let old = old_statuses.get(name);
        if old != Some(status) {
            changes.push(Change {
                event_type: EventType::CapabilityUpdated,
                object: capability_object(name, status, &after.account, account),
                previous_attributes: old.map(|old| json!({"status": old})),
            });
        }
    }
    if let Some(previous) = previous_attributes(&before.account, &after.account) {
        changes.push(Change {
            event_type: EventType::AccountUpdated,
            object: after.account.clone(),
            previous_attributes: Some(previous),
        });
    }
    changes
}

/// The created, updated and deleted events of one kind of an account's
/// members (persons, bank accounts), from their objects before and after.
fn member_changes<Id: Ord>(
    before: Option<&BTreeMap<Id, Value>>,
    after: &BTreeMap<Id, Value>,
    [created, updated, deleted]: [EventType; 3],
    changes: &mut Vec<Change>,
) {
    let empty = BTreeMap::new();
    let before = before.unwrap_or(&empty);
    for (id, object) in after {
        match before.get(id) {
            None => changes.push(Change {
                event_type: created,
                object: object.clone(),
                previous_attributes: None,
            }),
            Some(old) => {
                if let Some(previous) = previous_attributes(old, object) {
                    changes.push(Change {
                        event_type: updated,
                        object: object.clone(),
                        previous_attributes: Some(previous),
                    });
                }
            }
        }
    }
    for (id, old) in before {
        if !after.contains_key(id) {
            let mut gone = old.clone();
            gone["deleted"] = json!(true);
            changes.push(Change {
                event_type: deleted,
                object: gone,
                previous_attributes: None,
            });
        }
    }
}

/// Stripe's `capability` object for one of the account's capabilities, its
/// requirements being the account's.
fn capability_object(name: &str, status: &Value, account: &Value, id: &AccountId) -> Value {
    json!({
        "id": name,
        "object": "capability",
        "account": id,
        "future_requirements": account["future_requirements"],
        "requested": true,
        "requested_at": account["created"],
        "requirements": account["requirements"],
        "status": status,
    })
}

/// `data.previous_attributes`: of each attribute that changed, its previous
/// value; hashes are compared key by key (only changed keys are listed),
/// everything else (arrays included) is given whole, as Stripe does. `None`
/// when nothing changed.
pub fn previous_attributes(before: &Value, after: &Value) -> Option<Value> {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut previous = Map::new();
            for (key, old_value) in old {
                match new.get(key) {
                    None => {
                        previous.insert(key.clone(), old_value.clone());
                    }
                    Some(new_value) => {
                        if let Some(changed) = previous_attributes(old_value, new_value) {
                            previous.insert(key.clone(), changed);
                        }
                    }
                }
            }
            for key in new.keys() {
                if !old.contains_key(key) {
                    // An attribute that did not exist before was null.
                    previous.insert(key.clone(), Value::Null);
                }
            }
            (!previous.is_empty()).then_some(Value::Object(previous))
        }
        _ if before == after => None,
        _ => Some(before.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_attributes_list_only_what_changed_and_arrays_whole() {
        let before = json!({
            "charges_enabled": false,
            "requirements": {"currently_due": ["a", "b"], "disabled_reason": "x", "errors": []},
            "email": "a@example.com",
        });
        let after = json!({
            "charges_enabled": true,
            "requirements": {"currently_due": ["a"], "disabled_reason": "x", "errors": []},
            "email": "a@example.com",
        });
        assert_eq!(
            previous_attributes(&before, &after),
            Some(json!({
                "charges_enabled": false,
                "requirements": {"currently_due": ["a", "b"]},
            }))
        );
        assert_eq!(previous_attributes(&after, &after), None);
    }

    #[test]
    fn capability_and_person_changes_become_their_own_events() {
        let account = AccountId::generate();
        let person = PersonId::generate();
        let snapshot = |status: &str, persons: BTreeMap<PersonId, Value>| Snapshot {
            account: json!({"capabilities": {"transfers": status}, "requirements": {}, "future_requirements": {}, "created": 1}),
            persons,
            external_accounts: BTreeMap::new(),
        };
        let before = snapshot("inactive", BTreeMap::new());
        let after = snapshot(
            "active",
            BTreeMap::from([(person.clone(), json!({"id": person, "first_name": "A"}))]),
        );

        let events = changes(Some(&before), &after, &account);

        let types: Vec<EventType> = events.iter().map(|c| c.event_type).collect();
        assert_eq!(
            types,
            [
                EventType::PersonCreated,
                EventType::CapabilityUpdated,
                EventType::AccountUpdated
            ]
        );
        assert_eq!(events[1].object["status"], "active");
        assert_eq!(
            events[1].previous_attributes,
            Some(json!({"status": "inactive"}))
        );
        assert_eq!(
            events[2].previous_attributes,
            Some(json!({"capabilities": {"transfers": "inactive"}}))
        );
        let gone = changes(Some(&after), &before, &account);
        assert_eq!(gone[0].event_type, EventType::PersonDeleted);
        assert_eq!(gone[0].object["deleted"], true);
    }
}
