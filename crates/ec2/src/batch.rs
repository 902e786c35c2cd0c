//! EC2's many-ids-per-call writes, with its failure semantics: one id in a wrong state fails the
//! whole call, so a failed batch is retried one id at a time and that id never blocks the rest.

use std::future::Future;

use crate::model::{CallCounts, Ec2Error, Ec2Port, Instance, InstanceQuery, StateChange};

/// What became of one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Done,
    Failed(Ec2Error),
    /// Out of time before this id's call.
    NotAttempted,
}

/// The outcome per id (same order as `ids`) and the number of calls made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batched {
    pub outcomes: Vec<Applied>,
    pub calls: usize,
}

/// Calls `call` with batches of at most `batch_size` ids. A batch that fails is retried one id
/// at a time, except for throttling and 5xx: retrying those per id would multiply the load, so
/// the whole batch fails as transient. `out_of_time` is asked before every call.
pub async fn apply_in_batches<F, Fut>(
    ids: &[String],
    batch_size: usize,
    out_of_time: impl Fn() -> bool,
    call: F,
) -> Batched
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<(), Ec2Error>>,
{
    let mut outcomes = Vec::with_capacity(ids.len());
    let mut calls = 0;
    for batch in ids.chunks(batch_size.max(1)) {
        if out_of_time() {
            outcomes.extend(batch.iter().map(|_| Applied::NotAttempted));
            continue;
        }
        calls += 1;
        match call(batch.to_vec()).await {
            Ok(()) => outcomes.extend(batch.iter().map(|_| Applied::Done)),
            Err(e) if e.kind.is_transient() || batch.len() == 1 => {
                outcomes.extend(batch.iter().map(|_| Applied::Failed(e.clone())));
            }
            Err(e) => {
                tracing::warn!(batch = batch.len(), code = %e.code, "batch failed; retrying one instance at a time");
                for id in batch {
                    if out_of_time() {
                        outcomes.push(Applied::NotAttempted);
                        continue;
                    }
                    calls += 1;
                    outcomes.push(match call(vec![id.clone()]).await {
                        Ok(()) => Applied::Done,
                        Err(e) => Applied::Failed(e),
                    });
                }
            }
        }
    }
    Batched { outcomes, calls }
}

/// Every instance `query` selects, page by page; `out_of_time` is asked before each page. The
/// flag is `false` when it stopped early, with the pages read so far.
pub async fn describe_all<E: Ec2Port>(
    ec2: &E,
    query: &InstanceQuery,
    out_of_time: impl Fn() -> bool,
    calls: &mut CallCounts,
) -> Result<(Vec<Instance>, bool), Ec2Error> {
    let mut instances = Vec::new();
    let mut token = None;
    loop {
        if out_of_time() {
            return Ok((instances, false));
        }
        calls.describe += 1;
        let page = ec2.describe_page(query, token.take()).await?;
        instances.extend(page.instances);
        match page.next_token {
            Some(next) => token = Some(next),
            None => return Ok((instances, true)),
        }
    }
}

/// `change` for every id, in batches with the per-instance fallback; counts the calls made.
pub async fn change_state_in_batches<E: Ec2Port>(
    ec2: &E,
    change: StateChange,
    ids: &[String],
    batch_size: usize,
    out_of_time: impl Fn() -> bool,
    calls: &mut CallCounts,
) -> Vec<Applied> {
    let batched = apply_in_batches(ids, batch_size, out_of_time, |batch| async move {
        ec2.change_state(change, &batch).await
    })
    .await;
    calls.change_state += batched.calls;
    batched.outcomes
}

/// The same `tags` on every id, in batches with the per-instance fallback; counts the calls made.
pub async fn create_tags_in_batches<E: Ec2Port>(
    ec2: &E,
    ids: &[String],
    tags: &[(String, String)],
    batch_size: usize,
    out_of_time: impl Fn() -> bool,
    calls: &mut CallCounts,
) -> Vec<Applied> {
    let batched = apply_in_batches(ids, batch_size, out_of_time, |batch| async move {
        ec2.create_tags(&batch, tags).await
    })
    .await;
    calls.create_tags += batched.calls;
    batched.outcomes
}

/// Removes the tags with `keys` from every id, in batches with the per-instance fallback.
pub async fn delete_tags_in_batches<E: Ec2Port>(
    ec2: &E,
    ids: &[String],
    keys: &[String],
    batch_size: usize,
    out_of_time: impl Fn() -> bool,
    calls: &mut CallCounts,
) -> Vec<Applied> {
    let batched = apply_in_batches(ids, batch_size, out_of_time, |batch| async move {
        ec2.delete_tags(&batch, keys).await
    })
    .await;
    calls.delete_tags += batched.calls;
    batched.outcomes
}

/// Instances to act on, each with a key of the caller's that comes back with its outcome.
pub type Targets<K> = Vec<(K, String)>;

/// One run's calls to EC2: listing page by page, state changes and tags in batches of
/// `batch_size` with the per-instance fallback, `out_of_time` asked before every call, and the
/// calls counted. Targets carry a key of the caller's (a record's index) that comes back with each
/// id's outcome.
pub struct Batches<'a, E, F> {
    ec2: &'a E,
    batch_size: usize,
    out_of_time: F,
    pub calls: CallCounts,
}

impl<'a, E: Ec2Port, F: Fn() -> bool> Batches<'a, E, F> {
    pub fn new(ec2: &'a E, batch_size: usize, out_of_time: F) -> Self {
        Self {
            ec2,
            batch_size,
            out_of_time,
            calls: CallCounts::default(),
        }
    }

    /// See [`describe_all`].
    pub async fn describe_all(
        &mut self,
        query: &InstanceQuery,
    ) -> Result<(Vec<Instance>, bool), Ec2Error> {
        describe_all(self.ec2, query, &self.out_of_time, &mut self.calls).await
    }

    /// `change` for every target's instance.
    pub async fn change_state<K>(
        &mut self,
        change: StateChange,
        targets: Targets<K>,
    ) -> Vec<(K, Applied)> {
        let (keys, ids): (Vec<K>, Vec<String>) = targets.into_iter().unzip();
        let outcomes = change_state_in_batches(
            self.ec2,
            change,
            &ids,
            self.batch_size,
            &self.out_of_time,
            &mut self.calls,
        )
        .await;
        keys.into_iter().zip(outcomes).collect()
    }

    /// The same `tags` on every target's instance.
    pub async fn create_tags<K>(
        &mut self,
        tags: &[(String, String)],
        targets: Targets<K>,
    ) -> Vec<(K, Applied)> {
        let (keys, ids): (Vec<K>, Vec<String>) = targets.into_iter().unzip();
        let outcomes = create_tags_in_batches(
            self.ec2,
            &ids,
            tags,
            self.batch_size,
            &self.out_of_time,
            &mut self.calls,
        )
        .await;
        keys.into_iter().zip(outcomes).collect()
    }

    /// Removes the tags with `tag_keys` from every target's instance.
    pub async fn delete_tags<K>(
        &mut self,
        tag_keys: &[String],
        targets: Targets<K>,
    ) -> Vec<(K, Applied)> {
        let (keys, ids): (Vec<K>, Vec<String>) = targets.into_iter().unzip();
        let outcomes = delete_tags_in_batches(
            self.ec2,
            &ids,
            tag_keys,
            self.batch_size,
            &self.out_of_time,
            &mut self.calls,
        )
        .await;
        keys.into_iter().zip(outcomes).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ec2ErrorKind;
    use std::cell::RefCell;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("i-{i}")).collect()
    }

    fn err(kind: Ec2ErrorKind) -> Ec2Error {
        Ec2Error::new(kind, "Code", "message")
    }

    #[tokio::test]
    async fn batches_then_retries_a_failed_batch_per_id() {
        let seen = RefCell::new(Vec::new());
        let result = apply_in_batches(
            &ids(5),
            2,
            || false,
            |batch| {
                seen.borrow_mut().push(batch.clone());
                let fails = batch.contains(&"i-3".to_owned());
                async move {
                    if fails {
                        Err(err(Ec2ErrorKind::IncorrectState))
                    } else {
                        Ok(())
                    }
                }
            },
        )
        .await;
        assert_eq!(
            *seen.borrow(),
            vec![
                vec!["i-0".to_owned(), "i-1".to_owned()],
                vec!["i-2".to_owned(), "i-3".to_owned()],
                vec!["i-2".to_owned()],
                vec!["i-3".to_owned()],
                vec!["i-4".to_owned()],
            ]
        );
        assert_eq!(result.calls, 5);
        assert_eq!(result.outcomes[2], Applied::Done);
        assert_eq!(
            result.outcomes[3],
            Applied::Failed(err(Ec2ErrorKind::IncorrectState))
        );
        assert_eq!(result.outcomes.len(), 5);
    }

    #[tokio::test]
    async fn throttling_fails_the_batch_without_per_id_retries() {
        let result = apply_in_batches(
            &ids(3),
            10,
            || false,
            |_| async { Err(err(Ec2ErrorKind::Throttled)) },
        )
        .await;
        assert_eq!(result.calls, 1);
        assert!(result
            .outcomes
            .iter()
            .all(|o| *o == Applied::Failed(err(Ec2ErrorKind::Throttled))));
    }

    #[tokio::test]
    async fn out_of_time_leaves_the_rest_unattempted() {
        let calls = RefCell::new(0);
        let result = apply_in_batches(
            &ids(4),
            2,
            || *calls.borrow() >= 1,
            |_| {
                *calls.borrow_mut() += 1;
                async { Ok(()) }
            },
        )
        .await;
        assert_eq!(
            result.outcomes,
            vec![
                Applied::Done,
                Applied::Done,
                Applied::NotAttempted,
                Applied::NotAttempted
            ]
        );
    }
}
