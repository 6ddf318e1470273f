"""HL7 v2.5.1 segment and field names for the message browser's parsed tree (data, from the v2.5.1 standard's
segment definitions). Field n of a segment is ``FIELDS[segment][n - 1]``; MSH-1 is the field separator itself."""

SEGMENTS = {
    "MSH": "Message Header",
    "EVN": "Event Type",
    "PID": "Patient Identification",
    "PV1": "Patient Visit",
    "ORC": "Common Order",
    "RXE": "Pharmacy/Treatment Encoded Order",
    "RXR": "Pharmacy/Treatment Route",
    "TQ1": "Timing/Quantity",
    "AL1": "Patient Allergy Information",
    "NK1": "Next of Kin / Associated Parties",
    "OBX": "Observation/Result",
    "MSA": "Message Acknowledgment",
    "ERR": "Error",
}

FIELDS: dict[str, tuple[str, ...]] = {
    "MSH": (
        "Field Separator", "Encoding Characters", "Sending Application", "Sending Facility", "Receiving Application",
        "Receiving Facility", "Date/Time of Message", "Security", "Message Type", "Message Control ID",
        "Processing ID", "Version ID", "Sequence Number", "Continuation Pointer", "Accept Acknowledgment Type",
        "Application Acknowledgment Type", "Country Code", "Character Set", "Principal Language of Message",
        "Alternate Character Set Handling Scheme", "Message Profile Identifier",
    ),
    "EVN": (
        "Event Type Code", "Recorded Date/Time", "Date/Time Planned Event", "Event Reason Code", "Operator ID",
        "Event Occurred", "Event Facility",
    ),
    "PID": (
        "Set ID - PID", "Patient ID", "Patient Identifier List", "Alternate Patient ID - PID", "Patient Name",
        "Mother's Maiden Name", "Date/Time of Birth", "Administrative Sex", "Patient Alias", "Race",
        "Patient Address", "County Code", "Phone Number - Home", "Phone Number - Business", "Primary Language",
        "Marital Status", "Religion", "Patient Account Number", "SSN Number - Patient",
        "Driver's License Number - Patient", "Mother's Identifier", "Ethnic Group", "Birth Place",
        "Multiple Birth Indicator", "Birth Order", "Citizenship", "Veterans Military Status", "Nationality",
        "Patient Death Date and Time", "Patient Death Indicator", "Identity Unknown Indicator",
        "Identity Reliability Code", "Last Update Date/Time", "Last Update Facility", "Species Code", "Breed Code",
        "Strain", "Production Class Code", "Tribal Citizenship",
    ),
    "PV1": (
        "Set ID - PV1", "Patient Class", "Assigned Patient Location", "Admission Type", "Preadmit Number",
        "Prior Patient Location", "Attending Doctor", "Referring Doctor", "Consulting Doctor", "Hospital Service",
        "Temporary Location", "Preadmit Test Indicator", "Re-admission Indicator", "Admit Source",
        "Ambulatory Status", "VIP Indicator", "Admitting Doctor", "Patient Type", "Visit Number", "Financial Class",
        "Charge Price Indicator", "Courtesy Code", "Credit Rating", "Contract Code", "Contract Effective Date",
        "Contract Amount", "Contract Period", "Interest Code", "Transfer to Bad Debt Code",
        "Transfer to Bad Debt Date", "Bad Debt Agency Code", "Bad Debt Transfer Amount", "Bad Debt Recovery Amount",
        "Delete Account Indicator", "Delete Account Date", "Discharge Disposition", "Discharged to Location",
        "Diet Type", "Servicing Facility", "Bed Status", "Account Status", "Pending Location",
        "Prior Temporary Location", "Admit Date/Time", "Discharge Date/Time", "Current Patient Balance",
        "Total Charges", "Total Adjustments", "Total Payments", "Alternate Visit ID", "Visit Indicator",
        "Other Healthcare Provider",
    ),
    "ORC": (
        "Order Control", "Placer Order Number", "Filler Order Number", "Placer Group Number", "Order Status",
        "Response Flag", "Quantity/Timing", "Parent", "Date/Time of Transaction", "Entered By", "Verified By",
        "Ordering Provider", "Enterer's Location", "Call Back Phone Number", "Order Effective Date/Time",
        "Order Control Code Reason", "Entering Organization", "Entering Device", "Action By",
        "Advanced Beneficiary Notice Code", "Ordering Facility Name", "Ordering Facility Address",
        "Ordering Facility Phone Number", "Ordering Provider Address", "Order Status Modifier",
        "Advanced Beneficiary Notice Override Reason", "Filler's Expected Availability Date/Time",
        "Confidentiality Code", "Order Type", "Enterer Authorization Mode", "Parent Universal Service Identifier",
    ),
    "RXE": (
        "Quantity/Timing", "Give Code", "Give Amount - Minimum", "Give Amount - Maximum", "Give Units",
        "Give Dosage Form", "Provider's Administration Instructions", "Deliver-To Location", "Substitution Status",
        "Dispense Amount", "Dispense Units", "Number Of Refills", "Ordering Provider's DEA Number",
        "Pharmacist/Treatment Supplier's Verifier ID", "Prescription Number", "Number of Refills Remaining",
        "Number of Refills/Doses Dispensed", "D/T of Most Recent Refill or Dose Dispensed", "Total Daily Dose",
        "Needs Human Review", "Pharmacy/Treatment Supplier's Special Dispensing Instructions", "Give Per (Time Unit)",
        "Give Rate Amount", "Give Rate Units", "Give Strength", "Give Strength Units", "Give Indication",
        "Dispense Package Size", "Dispense Package Size Unit", "Dispense Package Method", "Supplementary Code",
        "Original Order Date/Time", "Give Drug Strength Volume", "Give Drug Strength Volume Units",
        "Controlled Substance Schedule", "Formulary Status", "Pharmaceutical Substance Alternative",
        "Pharmacy of Most Recent Fill", "Initial Dispense Amount", "Dispensing Pharmacy",
        "Dispensing Pharmacy Address", "Deliver-to Patient Location", "Deliver-to Address", "Pharmacy Order Type",
    ),
    "RXR": (
        "Route", "Administration Site", "Administration Device", "Administration Method", "Routing Instruction",
        "Administration Site Modifier",
    ),
    "TQ1": (
        "Set ID - TQ1", "Quantity", "Repeat Pattern", "Explicit Time", "Relative Time and Units", "Service Duration",
        "Start Date/Time", "End Date/Time", "Priority", "Condition Text", "Text Instruction", "Conjunction",
        "Occurrence Duration", "Total Occurrences",
    ),
    "AL1": (
        "Set ID - AL1", "Allergen Type Code", "Allergen Code/Mnemonic/Description", "Allergy Severity Code",
        "Allergy Reaction Code", "Identification Date",
    ),
    "NK1": (
        "Set ID - NK1", "Name", "Relationship", "Address", "Phone Number", "Business Phone Number", "Contact Role",
        "Start Date", "End Date", "Next of Kin / Associated Parties Job Title",
        "Next of Kin / Associated Parties Job Code/Class", "Next of Kin / Associated Parties Employee Number",
        "Organization Name - NK1", "Marital Status", "Administrative Sex", "Date/Time of Birth", "Living Dependency",
        "Ambulatory Status", "Citizenship", "Primary Language", "Living Arrangement", "Publicity Code",
        "Protection Indicator", "Student Indicator", "Religion", "Mother's Maiden Name", "Nationality",
        "Ethnic Group", "Contact Reason", "Contact Person's Name", "Contact Person's Telephone Number",
        "Contact Person's Address", "Next of Kin/Associated Party's Identifiers", "Job Status", "Race", "Handicap",
        "Contact Person Social Security Number", "Next of Kin Birth Place", "VIP Indicator",
    ),
    "OBX": (
        "Set ID - OBX", "Value Type", "Observation Identifier", "Observation Sub-ID", "Observation Value", "Units",
        "References Range", "Abnormal Flags", "Probability", "Nature of Abnormal Test", "Observation Result Status",
        "Effective Date of Reference Range", "User Defined Access Checks", "Date/Time of the Observation",
        "Producer's ID", "Responsible Observer", "Observation Method", "Equipment Instance Identifier",
        "Date/Time of the Analysis",
    ),
    "MSA": (
        "Acknowledgment Code", "Message Control ID", "Text Message", "Expected Sequence Number",
        "Delayed Acknowledgment Type", "Error Condition",
    ),
    "ERR": (
        "Error Code and Location", "Error Location", "HL7 Error Code", "Severity", "Application Error Code",
        "Application Error Parameter", "Diagnostic Information", "User Message", "Inform Person Indicator",
        "Override Type", "Override Reason Code", "Help Desk Contact Point",
    ),
}


def field_name(segment: str, number: int) -> str:
    """The standard name of field ``number`` of ``segment`` ("" when the table does not know it)."""
    names = FIELDS.get(segment, ())
    return names[number - 1] if 0 < number <= len(names) else ""
