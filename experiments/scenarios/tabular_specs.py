"""Feature descriptions of the four bundled tables, in the words participants read.

Immutable features are the ones a person cannot act on (age, sex, race, country of birth, and
household roles: recourse must never advise someone to marry). Ordinal categories are listed from
low to high so their codes keep the order.
"""

from __future__ import annotations

from experiments.languages import gettext_noop
from experiments.scenarios.columns import ColumnSpec, categorical, numeric

# The four tables' words are marked for the translation catalogue (experiments.languages): the
# pages show them in the participant's language.
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
    numeric("age", gettext_noop("Age"),
            unit=gettext_noop("years"), unit_one=gettext_noop("year"), immutable=True,
            lower=18, upper=96),
    categorical("sex", gettext_noop("Sex"),
                [("Female", gettext_noop("Female")), ("Male", gettext_noop("Male"))],
                immutable=True),
    categorical(
        "race",
        gettext_noop("Race"),
        [
            ("African-American", gettext_noop("African-American")),
            ("Caucasian", gettext_noop("White")),
            ("Hispanic", gettext_noop("Hispanic")),
        ],
        default=gettext_noop("Other"),
        immutable=True,
    ),
    numeric("juv_fel_count", gettext_noop("Juvenile felonies"), lower=0),
    numeric("juv_misd_count", gettext_noop("Juvenile misdemeanours"), lower=0),
    numeric("juv_other_count", gettext_noop("Other juvenile offences"), lower=0),
    numeric("priors_count", gettext_noop("Prior offences"), lower=0),
    categorical("c_charge_degree", gettext_noop("Current charge"),
                [("M", gettext_noop("Misdemeanour")), ("F", gettext_noop("Felony"))]),
)

GERMAN_CREDIT: tuple[ColumnSpec, ...] = (
    categorical(
        "status",
        gettext_noop("Checking account balance"),
        [
            ("... < 0 DM", gettext_noop("Overdrawn (below 0 DM)")),
            ("no checking account", gettext_noop("No checking account")),
            ("0 <= ... < 200 DM", gettext_noop("0 to 200 DM")),
            (
                "... >= 200 DM / salary assignments for at least 1 year",
                gettext_noop("200 DM or more, or salary paid in"),
            ),
        ],
    ),
    numeric("duration", gettext_noop("Loan duration"),
            unit=gettext_noop("months"), unit_one=gettext_noop("month"), lower=4, upper=72),
    categorical(
        "credit_history",
        gettext_noop("Credit history"),
        [
            (
                "critical account/ other credits existing (not at this bank)",
                gettext_noop("Critical account, credits elsewhere"),
            ),
            ("delay in paying off in the past", gettext_noop("Paid late in the past")),
            ("existing credits paid back duly till now",
             gettext_noop("Current credits paid on time")),
            ("all credits at this bank paid back duly",
             gettext_noop("All credits here paid back")),
            ("no credits taken/ all credits paid back duly",
             gettext_noop("No credits, or all paid back")),
        ],
    ),
    categorical(
        "purpose",
        gettext_noop("Purpose of the loan"),
        [
            ("car (new)", gettext_noop("New car")),
            ("car (used)", gettext_noop("Used car")),
            ("furniture/equipment", gettext_noop("Furniture or equipment")),
            ("radio/television", gettext_noop("Radio or television")),
            ("domestic appliances", gettext_noop("Household appliances")),
            ("repairs", gettext_noop("Repairs")),
            ("education", gettext_noop("Education")),
            ("retraining", gettext_noop("Retraining")),
            ("business", gettext_noop("Business")),
            ("others", gettext_noop("Other")),
        ],
    ),
    numeric("credit_amount", gettext_noop("Loan amount"),
            unit=gettext_noop("DM"), lower=250, upper=18424),
    categorical(
        "savings",
        gettext_noop("Savings"),
        [
            ("unknown/ no savings account", gettext_noop("None or unknown")),
            ("... < 100 DM", gettext_noop("Below 100 DM")),
            ("100 <= ... < 500 DM", gettext_noop("100 to 500 DM")),
            ("500 <= ... < 1000 DM", gettext_noop("500 to 1,000 DM")),
            (".. >= 1000 DM", gettext_noop("1,000 DM or more")),
        ],
        direction="increase",
    ),
    categorical(
        "present_employment",
        gettext_noop("Time in current job"),
        [
            ("unemployed", gettext_noop("Unemployed")),
            ("... < 1 year", gettext_noop("Less than 1 year")),
            ("1 <= ... < 4 years", gettext_noop("1 to 4 years")),
            ("4 <= ... < 7 years", gettext_noop("4 to 7 years")),
            (".. >= 7 years", gettext_noop("7 years or more")),
        ],
        direction="increase",
    ),
    numeric("installment_rate",
            gettext_noop("Instalment as share of income (1 low - 4 high)"), lower=1, upper=4),
    categorical(
        "status_sex",
        gettext_noop("Sex"),
        [
            ("female : divorced/separated/married", gettext_noop("Female")),
            ("male : single", gettext_noop("Male")),
            ("male : married/widowed", gettext_noop("Male")),
            ("male : divorced/separated", gettext_noop("Male")),
        ],
        immutable=True,
    ),
    categorical(
        "property",
        gettext_noop("Most valuable property"),
        [
            ("unknown / no property", gettext_noop("None or unknown")),
            ("car or other", gettext_noop("Car or other")),
            (
                "building society savings agreement / life insurance",
                gettext_noop("Savings agreement or life insurance"),
            ),
            ("real estate", gettext_noop("Real estate")),
        ],
    ),
    numeric("age", gettext_noop("Age"),
            unit=gettext_noop("years"), unit_one=gettext_noop("year"), immutable=True,
            lower=19, upper=75),
    categorical(
        "housing",
        gettext_noop("Housing"),
        [
            ("rent", gettext_noop("Rents")),
            ("own", gettext_noop("Owns")),
            ("for free", gettext_noop("Lives for free")),
        ],
    ),
    numeric("number_of_existing_credits", gettext_noop("Existing credits at this bank"),
            lower=1, upper=4),
    categorical(
        "job",
        gettext_noop("Job"),
        [
            ("unemployed/ unskilled - non-resident", gettext_noop("Unskilled, non-resident")),
            ("unskilled - resident", gettext_noop("Unskilled")),
            ("skilled employee/ official", gettext_noop("Skilled employee or official")),
            (
                "management/ self-employed/ highly qualified employee/ officer",
                gettext_noop("Manager, self-employed or highly qualified"),
            ),
        ],
    ),
    categorical(
        "foreign_worker", gettext_noop("Foreign worker"),
        [("False", gettext_noop("No")), ("True", gettext_noop("Yes"))], immutable=True
    ),
)

HOUSE_PRICES: tuple[ColumnSpec, ...] = (
    numeric("GrLivArea", gettext_noop("Living area"), unit=gettext_noop("sq ft"), lower=300),
    numeric("OverallQual", gettext_noop("Overall quality (1-10)"), lower=1, upper=10),
    # Derived at load time as YrSold - YearBuilt: a year shown as "1,957" would confuse people.
    numeric("HouseAge", gettext_noop("Age of the house when sold"),
            unit=gettext_noop("years"), unit_one=gettext_noop("year"), immutable=True, lower=0),
    numeric("TotalBsmtSF", gettext_noop("Basement area"), unit=gettext_noop("sq ft"), lower=0),
    numeric("GarageArea", gettext_noop("Garage area"), unit=gettext_noop("sq ft"), lower=0),
    numeric("FullBath", gettext_noop("Full bathrooms"), lower=0),
    numeric("BedroomAbvGr", gettext_noop("Bedrooms"), lower=0),
    numeric("LotArea", gettext_noop("Lot size"), unit=gettext_noop("sq ft"), lower=1000),
)

# The two features of the "2 vs 8 features" design (Poursabzi-Sangdeh et al. CHI 2021): the two
# with the largest standardised linear coefficients (and the largest GBM importances) on the data.
HOUSE_PRICES_KEY_FEATURES = ("GrLivArea", "OverallQual")
