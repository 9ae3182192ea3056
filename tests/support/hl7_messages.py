"""HL7 v2 test messages in the shapes the standard's examples use (segments joined by CR)."""

from __future__ import annotations

A03 = [
    "MSH|^~\\&|EPIC|GOODHEALTH|RR|CLINIC|202603072335||ADT^A03^ADT_A03|{control}|P|2.5.1",
    "EVN|A03|202603072335",
    "PID|1||{mrn}^^^GH^MR~999-99-9999^^^SSA^SS||Lopez^Ana^M||19500101|F|||"
    "1 Main St^^Ventura^CA^93001||(805)555-0100^PRN^PH~(805)555-0142^PRN^CP~"
    "^NET^Internet^ana@example.org||SPA",
    "PV1|1|I|SPINE^101^1^GH||||1234^Taqi^Ali||||||||||||V{mrn}",
    "PR1|1||22513^Kyphoplasty, thoracic^CPT||202603072200",
    "OBX|1|CWE|RR-CONSENT-SMS^Consent to reminder texts^L||Y||||||F",
    "OBX|2|CWE|RR-CONSENT-EMAIL^Consent to reminder emails^L||Y||||||F",
    "ZPI|1|VIP^Local flag|\\T\\ a Z-segment the service does not read",
]


def a03(control: str = "MSG-A03-1", mrn: str = "MRN12345", *, consent: bool = True) -> str:
    lines = [line.format(control=control, mrn=mrn) for line in A03]
    if not consent:
        lines = [line for line in lines if not line.startswith("OBX")]
    return "\r".join(lines)


def adt(event: str, control: str, mrn: str = "MRN12345", *extra: str) -> str:
    """An A08, A11 or A13 for the patient (and visit) a03() discharged."""
    return "\r".join(
        [
            f"MSH|^~\\&|EPIC|GOODHEALTH|RR|CLINIC|202603080900||ADT^{event}^ADT_A01|{control}|P|2.5.1",
            f"EVN|{event}|202603080900",
            *extra,
            f"PV1|1|I|SPINE^101^1^GH||||1234^Taqi^Ali||||||||||||V{mrn}",
        ]
    )


def pid(mrn: str = "MRN12345", telecom: str = "(805)555-0142^PRN^CP", language: str = "") -> str:
    return f"PID|1||{mrn}^^^GH^MR||Lopez^Ana||19500101|F|||||{telecom}||{language}"
