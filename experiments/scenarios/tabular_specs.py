"""Feature descriptions of the four bundled tables, in the words participants read.

Immutable features are the ones a person cannot act on (age, sex, race, country of birth, and
household roles: recourse must never advise someone to marry). Ordinal categories are listed from
low to high so their codes keep the order.
"""

from __future__ import annotations

from experiments.scenarios.columns import ColumnSpec, categorical, numeric

ADULT: tuple[ColumnSpec, ...] = (
    numeric("age", "Age", unit="years", immutable=True, lower=17, upper=90),
    categorical(
        "workclass",
        "Type of employer",
        [
            ("Private", "Private company"),
            ("Self-emp-not-inc", "Self-employed"),
            ("Self-emp-inc", "Self-employed (own company)"),
            ("Federal-gov", "Federal government"),
            ("State-gov", "State government"),
            ("Local-gov", "Local government"),
            ("Without-pay", "Unpaid"),
        ],
    ),
    categorical(
        "education",
        "Education",
        [
            ("Preschool", "Preschool"),
            ("1st-4th", "Grades 1-4"),
            ("5th-6th", "Grades 5-6"),
            ("7th-8th", "Grades 7-8"),
            ("9th", "Grade 9"),
            ("10th", "Grade 10"),
            ("11th", "Grade 11"),
            ("12th", "Grade 12, no diploma"),
            ("HS-grad", "High-school graduate"),
            ("Some-college", "Some college, no degree"),
            ("Assoc-voc", "Vocational associate degree"),
            ("Assoc-acdm", "Academic associate degree"),
            ("Bachelors", "Bachelor's degree"),
            ("Masters", "Master's degree"),
            ("Prof-school", "Professional degree (e.g. law, medicine)"),
            ("Doctorate", "Doctorate"),
        ],
        direction="increase",
    ),
    categorical(
        "marital_status",
        "Marital status",
        [
            ("Never-married", "Never married"),
            ("Married-civ-spouse", "Married"),
            ("Married-AF-spouse", "Married"),
            ("Married-spouse-absent", "Married, living apart"),
            ("Separated", "Separated"),
            ("Divorced", "Divorced"),
            ("Widowed", "Widowed"),
        ],
        immutable=True,
    ),
    categorical(
        "occupation",
        "Occupation",
        [
            ("Adm-clerical", "Office and clerical"),
            ("Armed-Forces", "Armed forces"),
            ("Craft-repair", "Craft and repair"),
            ("Exec-managerial", "Executive or manager"),
            ("Farming-fishing", "Farming and fishing"),
            ("Handlers-cleaners", "Handler or cleaner"),
            ("Machine-op-inspct", "Machine operator or inspector"),
            ("Other-service", "Other service job"),
            ("Priv-house-serv", "Private household service"),
            ("Prof-specialty", "Professional specialty"),
            ("Protective-serv", "Protective service"),
            ("Sales", "Sales"),
            ("Tech-support", "Technical support"),
            ("Transport-moving", "Transport and moving"),
        ],
    ),
    categorical(
        "relationship",
        "Role in household",
        [
            ("Husband", "Husband"),
            ("Wife", "Wife"),
            ("Own-child", "Child living with parents"),
            ("Not-in-family", "Lives without family"),
            ("Unmarried", "Unmarried, with family"),
            ("Other-relative", "Other relative"),
        ],
        immutable=True,
    ),
    categorical(
        "race",
        "Race",
        [
            ("White", "White"),
            ("Black", "Black"),
            ("Asian-Pac-Islander", "Asian or Pacific Islander"),
            ("Amer-Indian-Eskimo", "American Indian or Eskimo"),
            ("Other", "Other"),
        ],
        immutable=True,
    ),
    categorical("sex", "Sex", [("Female", "Female"), ("Male", "Male")], immutable=True),
    numeric("capital_gain", "Capital gains last year", unit="dollars", lower=0, upper=99999),
    numeric("capital_loss", "Capital losses last year", unit="dollars", lower=0, upper=4356),
    numeric("hours_per_week", "Hours worked per week", unit="hours", lower=1, upper=99),
    categorical(
        "native_country",
        "Country of birth",
        [("United-States", "United States")],
        default="Another country",
        immutable=True,
    ),
)

COMPAS: tuple[ColumnSpec, ...] = (
    numeric("age", "Age", unit="years", immutable=True, lower=18, upper=96),
    categorical("sex", "Sex", [("Female", "Female"), ("Male", "Male")], immutable=True),
    categorical(
        "race",
        "Race",
        [
            ("African-American", "African-American"),
            ("Caucasian", "White"),
            ("Hispanic", "Hispanic"),
        ],
        default="Other",
        immutable=True,
    ),
    numeric("juv_fel_count", "Juvenile felonies", lower=0),
    numeric("juv_misd_count", "Juvenile misdemeanours", lower=0),
    numeric("juv_other_count", "Other juvenile offences", lower=0),
    numeric("priors_count", "Prior offences", lower=0),
    categorical("c_charge_degree", "Current charge", [("M", "Misdemeanour"), ("F", "Felony")]),
)

GERMAN_CREDIT: tuple[ColumnSpec, ...] = (
    categorical(
        "status",
        "Checking account balance",
        [
            ("... < 0 DM", "Overdrawn (below 0 DM)"),
            ("no checking account", "No checking account"),
            ("0 <= ... < 200 DM", "0 to 200 DM"),
            (
                "... >= 200 DM / salary assignments for at least 1 year",
                "200 DM or more, or salary paid in",
            ),
        ],
    ),
    numeric("duration", "Loan duration", unit="months", lower=4, upper=72),
    categorical(
        "credit_history",
        "Credit history",
        [
            (
                "critical account/ other credits existing (not at this bank)",
                "Critical account, credits elsewhere",
            ),
            ("delay in paying off in the past", "Paid late in the past"),
            ("existing credits paid back duly till now", "Current credits paid on time"),
            ("all credits at this bank paid back duly", "All credits here paid back"),
            ("no credits taken/ all credits paid back duly", "No credits, or all paid back"),
        ],
    ),
    categorical(
        "purpose",
        "Purpose of the loan",
        [
            ("car (new)", "New car"),
            ("car (used)", "Used car"),
            ("furniture/equipment", "Furniture or equipment"),
            ("radio/television", "Radio or television"),
            ("domestic appliances", "Household appliances"),
            ("repairs", "Repairs"),
            ("education", "Education"),
            ("retraining", "Retraining"),
            ("business", "Business"),
            ("others", "Other"),
        ],
    ),
    numeric("credit_amount", "Loan amount", unit="DM", lower=250, upper=18424),
    categorical(
        "savings",
        "Savings",
        [
            ("unknown/ no savings account", "None or unknown"),
            ("... < 100 DM", "Below 100 DM"),
            ("100 <= ... < 500 DM", "100 to 500 DM"),
            ("500 <= ... < 1000 DM", "500 to 1,000 DM"),
            (".. >= 1000 DM", "1,000 DM or more"),
        ],
        direction="increase",
    ),
    categorical(
        "present_employment",
        "Time in current job",
        [
            ("unemployed", "Unemployed"),
            ("... < 1 year", "Less than 1 year"),
            ("1 <= ... < 4 years", "1 to 4 years"),
            ("4 <= ... < 7 years", "4 to 7 years"),
            (".. >= 7 years", "7 years or more"),
        ],
        direction="increase",
    ),
    numeric("installment_rate", "Instalment as share of income (1 low - 4 high)", lower=1, upper=4),
    categorical(
        "status_sex",
        "Sex",
        [
            ("female : divorced/separated/married", "Female"),
            ("male : single", "Male"),
            ("male : married/widowed", "Male"),
            ("male : divorced/separated", "Male"),
        ],
        immutable=True,
    ),
    categorical(
        "property",
        "Most valuable property",
        [
            ("unknown / no property", "None or unknown"),
            ("car or other", "Car or other"),
            (
                "building society savings agreement / life insurance",
                "Savings agreement or life insurance",
            ),
            ("real estate", "Real estate"),
        ],
    ),
    numeric("age", "Age", unit="years", immutable=True, lower=19, upper=75),
    categorical(
        "housing",
        "Housing",
        [
            ("rent", "Rents"),
            ("own", "Owns"),
            ("for free", "Lives for free"),
        ],
    ),
    numeric("number_of_existing_credits", "Existing credits at this bank", lower=1, upper=4),
    categorical(
        "job",
        "Job",
        [
            ("unemployed/ unskilled - non-resident", "Unskilled, non-resident"),
            ("unskilled - resident", "Unskilled"),
            ("skilled employee/ official", "Skilled employee or official"),
            (
                "management/ self-employed/ highly qualified employee/ officer",
                "Manager, self-employed or highly qualified",
            ),
        ],
    ),
    categorical(
        "foreign_worker", "Foreign worker", [("False", "No"), ("True", "Yes")], immutable=True
    ),
)

HOUSE_PRICES: tuple[ColumnSpec, ...] = (
    numeric("GrLivArea", "Living area", unit="sq ft", lower=300),
    numeric("OverallQual", "Overall quality (1-10)", lower=1, upper=10),
    # Derived at load time as YrSold - YearBuilt: a year shown as "1,957" would confuse people.
    numeric("HouseAge", "Age of the house when sold", unit="years", immutable=True, lower=0),
    numeric("TotalBsmtSF", "Basement area", unit="sq ft", lower=0),
    numeric("GarageArea", "Garage area", unit="sq ft", lower=0),
    numeric("FullBath", "Full bathrooms", lower=0),
    numeric("BedroomAbvGr", "Bedrooms", lower=0),
    numeric("LotArea", "Lot size", unit="sq ft", lower=1000),
)

# The two features of the "2 vs 8 features" design (Poursabzi-Sangdeh et al. CHI 2021): the two
# with the largest standardised linear coefficients (and the largest GBM importances) on the data.
HOUSE_PRICES_KEY_FEATURES = ("GrLivArea", "OverallQual")
