//! `-m cpu` (libxt_cpu): the CPU handling the packet.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// `-m cpu --cpu N`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Cpu {
    pub cpu: Neg<u32>,
}

const CPU: u8 = 0;

pub static SPEC: MatchSpec = MatchSpec {
    name: "cpu",
    availability: Availability::Both,
    options: &[OptionSpec::value("cpu", CPU).invertible()],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    if !b.mandatory(CPU, "cpu") {
        return None;
    }
    let opt = b.get(CPU)?;
    let cpu = b.number(opt, 0, u32::MAX as u64)? as u32;
    Some(MatchKind::Cpu(Cpu { cpu: b.neg(opt, cpu) }))
}

impl Cpu {
    pub fn save(&self, out: &mut String) {
        super::save::save_opt_value(out, self.cpu.invert, "cpu", self.cpu.value);
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, v4, v6};

    #[test]
    fn saves_the_cpu() {
        assert_eq!(v4("-m cpu ! --cpu 3"), "-m cpu ! --cpu 3");
        assert_eq!(v6("-m cpu --cpu 4294967295"), "-m cpu --cpu 4294967295");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m cpu").contains("`--cpu`"));
        assert!(err4("-m cpu --cpu -1").contains("0-4294967295"));
    }
}
