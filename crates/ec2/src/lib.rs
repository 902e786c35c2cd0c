//! The EC2 port shared by every function that lists, tags, starts, stops or terminates instances.
//! Domain types and the port live here with two adapters: [`AwsEc2`] (the SDK) and [`InMemoryEc2`]
//! (EC2's batch semantics in memory, for domain tests, benchmarks and offline plans).

#[cfg(feature = "aws")]
pub mod aws;
pub mod batch;
#[cfg(feature = "contract")]
pub mod contract;
pub mod memory;
pub mod model;
pub mod outcome;

#[cfg(feature = "aws")]
pub use aws::{client, ec2_error, AwsEc2};
pub use batch::{
    apply_in_batches, change_state_in_batches, create_tags_in_batches, delete_tags_in_batches,
    describe_all, Applied, Batches, Targets,
};
pub use memory::{FakeInstance, InMemoryEc2, SplitEc2};
pub use model::{
    CallCounts, Ec2Error, Ec2ErrorKind, Ec2Port, Instance, InstancePage, InstanceQuery,
    InstanceState, StateChange,
};
pub use outcome::Outcome;
