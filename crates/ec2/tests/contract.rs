//! The EC2 port's contract suite over both adapters: the in-memory fake, and the SDK adapter
//! against the local stand-in (which accepts stopping a terminated instance, unlike EC2: that case
//! is proven with aws-smithy-mocks in `aws_adapter.rs`).

use fleet_ec2::contract::{self, Ec2Harness, Launch};
use fleet_ec2::{AwsEc2, FakeInstance, InMemoryEc2, InstanceState};
use fleet_testkit::seed::{launch_instance, protect, set_state};
use fleet_testkit::Moto;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Memory {
    ec2: InMemoryEc2,
    next: AtomicUsize,
}

impl Memory {
    fn new() -> Self {
        Self {
            ec2: InMemoryEc2::new([], 5),
            next: AtomicUsize::new(1),
        }
    }
}

impl Ec2Harness for Memory {
    type Port = InMemoryEc2;

    fn port(&self) -> &InMemoryEc2 {
        &self.ec2
    }

    async fn launch(&self, instances: &[Launch]) -> Vec<String> {
        instances
            .iter()
            .map(|launch| {
                let id = format!("i-{:017x}", self.next.fetch_add(1, Ordering::Relaxed));
                let tags: Vec<(&str, &str)> = launch
                    .tags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let mut instance = FakeInstance::new(&id, launch.state, &tags);
                instance.termination_protected = launch.termination_protected;
                self.ec2.insert(instance);
                id
            })
            .collect()
    }

    fn rejects_wrong_state(&self) -> bool {
        true
    }
}

struct Stand {
    _moto: Moto,
    client: aws_sdk_ec2::Client,
    port: AwsEc2,
}

impl Stand {
    fn new() -> Self {
        let moto = Moto::start();
        let client = aws_sdk_ec2::Client::new(&moto.sdk_config());
        let port = AwsEc2::new(fleet_ec2::client(&moto.sdk_config())).with_page_size(5);
        Self {
            _moto: moto,
            client,
            port,
        }
    }
}

impl Ec2Harness for Stand {
    type Port = AwsEc2;

    fn port(&self) -> &AwsEc2 {
        &self.port
    }

    async fn launch(&self, instances: &[Launch]) -> Vec<String> {
        let mut ids = Vec::new();
        for launch in instances {
            let tags: Vec<(&str, &str)> = launch
                .tags
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let id = launch_instance(&self.client, &tags, None).await;
            if launch.termination_protected {
                protect(&self.client, &id).await;
            }
            match launch.state {
                InstanceState::Stopped => {
                    set_state(&self.client, std::slice::from_ref(&id), "stopped").await
                }
                InstanceState::Terminated => {
                    set_state(&self.client, std::slice::from_ref(&id), "terminated").await
                }
                _ => {}
            }
            ids.push(id);
        }
        ids
    }

    fn rejects_wrong_state(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn in_memory() {
    contract::describe(&Memory::new()).await;
    contract::state_changes(&Memory::new()).await;
    contract::tags(&Memory::new()).await;
}

#[tokio::test]
async fn sdk_adapter_against_the_stand_in() {
    contract::describe(&Stand::new()).await;
    contract::state_changes(&Stand::new()).await;
    contract::tags(&Stand::new()).await;
}
