"""Feature descriptions of the four bundled tables, in the words participants read.

Immutable features are the ones a person cannot act on (age, sex, race, country of birth, and
household roles: recourse must never advise someone to marry). Ordinal categories are listed from
low to high so their codes keep the order.
"""

from __future__ import annotations

from experiments.languages import gettext_noop
from experiments.scenarios.columns import ColumnSpec, categorical, numeric

# Adult's words are marked for the translation catalogue (experiments.languages): the pages
# show them in the participant's language.
ADULT: tuple[ColumnSpec, ...] = (
    numeric("age", gettext_noop("Age"),
            unit=gettext_noop("years"), unit_one=gettext_noop("year"), immutable=True,
            lower=17, upper=90),
    categorical(
        "workclass",
        gettext_noop("Type of employer"),
        [
            ("Private", gettext_noop("Private company")),
            ("Self-emp-not-inc", gettext_noop("Self-employed")),
            ("Self-emp-inc", gettext_noop("Self-employed (own company)")),
            ("Federal-gov", gettext_noop("Federal government")),
            ("State-gov", gettext_noop("State government")),
            ("Local-gov", gettext_noop("Local government")),
            ("Without-pay", gettext_noop("Unpaid")),
        ],
    ),
    categorical(
        "education",
        gettext_noop("Education"),
        [
            ("Preschool", gettext_noop("Preschool")),
            ("1st-4th", gettext_noop("Grades 1-4")),
            ("5th-6th", gettext_noop("Grades 5-6")),
            ("7th-8th", gettext_noop("Grades 7-8")),
            ("9th", gettext_noop("Grade 9")),
            ("10th", gettext_noop("Grade 10")),
            ("11th", gettext_noop("Grade 11")),
            ("12th", gettext_noop("Grade 12, no diploma")),
            ("HS-grad", gettext_noop("High-school graduate")),
            ("Some-college", gettext_noop("Some college, no degree")),
            ("Assoc-voc", gettext_noop("Vocational associate degree")),
            ("Assoc-acdm", gettext_noop("Academic associate degree")),
            ("Bachelors", gettext_noop("Bachelor's degree")),
            ("Masters", gettext_noop("Master's degree")),
            ("Prof-school", gettext_noop("Professional degree (e.g. law, medicine)")),
            ("Doctorate", gettext_noop("Doctorate")),
        ],
        direction="increase",
    ),
    categorical(
        "marital_status",
        gettext_noop("Marital status"),
        [
            ("Never-married", gettext_noop("Never married")),
            ("Married-civ-spouse", gettext_noop("Married")),
            ("Married-AF-spouse", gettext_noop("Married")),
            ("Married-spouse-absent", gettext_noop("Married, living apart")),
            ("Separated", gettext_noop("Separated")),
            ("Divorced", gettext_noop("Divorced")),
            ("Widowed", gettext_noop("Widowed")),
        ],
        immutable=True,
    ),
    categorical(
        "occupation",
        gettext_noop("Occupation"),
        [
            ("Adm-clerical", gettext_noop("Office and clerical")),
            ("Armed-Forces", gettext_noop("Armed forces")),
            ("Craft-repair", gettext_noop("Craft and repair")),
            ("Exec-managerial", gettext_noop("Executive or manager")),
            ("Farming-fishing", gettext_noop("Farming and fishing")),
            ("Handlers-cleaners", gettext_noop("Handler or cleaner")),
            ("Machine-op-inspct", gettext_noop("Machine operator or inspector")),
            ("Other-service", gettext_noop("Other service job")),
            ("Priv-house-serv", gettext_noop("Private household service")),
            ("Prof-specialty", gettext_noop("Professional specialty")),
            ("Protective-serv", gettext_noop("Protective service")),
            ("Sales", gettext_noop("Sales")),
            ("Tech-support", gettext_noop("Technical support")),
            ("Transport-moving", gettext_noop("Transport and moving")),
        ],
    ),
    categorical(
        "relationship",
        gettext_noop("Role in household"),
        [
            ("Husband", gettext_noop("Husband")),
            ("Wife", gettext_noop("Wife")),
            ("Own-child", gettext_noop("Child living with parents")),
            ("Not-in-family", gettext_noop("Lives without family")),
            ("Unmarried", gettext_noop("Unmarried, with family")),
            ("Other-relative", gettext_noop("Other relative")),
        ],
        immutable=True,
    ),
    categorical(
        "race",
        gettext_noop("Race"),
        [
            ("White", gettext_noop("White")),
            ("Black", gettext_noop("Black")),
            ("Asian-Pac-Islander", gettext_noop("Asian or Pacific Islander")),
            ("Amer-Indian-Eskimo", gettext_noop("American Indian or Eskimo")),
            ("Other", gettext_noop("Other")),
        ],
        immutable=True,
    ),
    categorical("sex", gettext_noop("Sex"),
                [("Female", gettext_noop("Female")), ("Male", gettext_noop("Male"))],
                immutable=True),
    numeric("capital_gain", gettext_noop("Capital gains last year"),
            unit=gettext_noop("dollars"), lower=0, upper=99999),
    numeric("capital_loss", gettext_noop("Capital losses last year"),
            unit=gettext_noop("dollars"), lower=0, upper=4356),
    numeric("hours_per_week", gettext_noop("Hours worked per week"),
            unit=gettext_noop("hours"), lower=1, upper=99),
    categorical(
        "native_country",
        gettext_noop("Country of birth"),
        [("United-States", gettext_noop("United States"))],
        default=gettext_noop("Another country"),
        immutable=True,
    ),
)

COMPAS: tuple[ColumnSpec, ...] = (
    numeric("age", "Age", unit="years", unit_one="year", immutable=True, lower=18, upper=96),
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
    numeric("duration", "Loan duration", unit="months", unit_one="month", lower=4, upper=72),
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
    numeric("age", "Age", unit="years", unit_one="year", immutable=True, lower=19, upper=75),
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
    numeric("HouseAge", "Age of the house when sold", unit="years", unit_one="year",
            immutable=True, lower=0),
    numeric("TotalBsmtSF", "Basement area", unit="sq ft", lower=0),
    numeric("GarageArea", "Garage area", unit="sq ft", lower=0),
    numeric("FullBath", "Full bathrooms", lower=0),
    numeric("BedroomAbvGr", "Bedrooms", lower=0),
    numeric("LotArea", "Lot size", unit="sq ft", lower=1000),
)

# The two features of the "2 vs 8 features" design (Poursabzi-Sangdeh et al. CHI 2021): the two
# with the largest standardised linear coefficients (and the largest GBM importances) on the data.
HOUSE_PRICES_KEY_FEATURES = ("GrLivArea", "OverallQual")
