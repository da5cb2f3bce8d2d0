"""Tests of scenarios.representative_days (tsam 4.x) on a synthetic year of two sites."""

import numpy as np
import pandas as pd
import pytest

from scenarios.representative_days import select_representative_days

PRICE = "p0_eur_per_mwh"
PV_A, PV_B = "pv_kw_per_kwp:foundry", "pv_kw_per_kwp:bakery"


@pytest.fixture(scope="module")
def year():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2021-01-01", periods=365 * 24, freq="h")
    hour, doy = idx.hour.to_numpy(), idx.dayofyear.to_numpy()
    bell = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * (0.6 + 0.3 * np.sin((doy - 80) / 365 * 2 * np.pi))
    cloud = rng.uniform(0.2, 1.0, 365).repeat(24)
    pv_a = bell * cloud
    pv_b = bell * np.clip(cloud + rng.normal(0, 0.1, 365).repeat(24), 0.05, 1.0)
    price = 60 + 20 * np.sin(hour / 24 * 2 * np.pi) - 30 * pv_a + rng.normal(0, 8, len(idx))
    return pd.DataFrame({PRICE: price, PV_A: pv_a, PV_B: pv_b}, index=idx)


@pytest.fixture(scope="module")
def rep(year):
    return select_representative_days(year, 8, preserve_column_means=False)


def test_weights_sum_to_days_and_mapping(year, rep):
    # 8 clusters + peak-price day + one lowest day per PV column (may coincide -> 10 or 11)
    assert rep.n_days in (10, 11)
    assert rep.weights.sum() == pytest.approx(365)
    assert len(rep.day_to_cluster) == 365
    np.testing.assert_array_equal(np.bincount(rep.day_to_cluster, minlength=rep.n_days), rep.weights)
    assert all(p.shape == (24, 3) for p in rep.profiles)
    assert rep.profiles_frame().shape == (24 * rep.n_days, 3)


def test_extreme_days_are_kept(year, rep):
    peak_day = year[PRICE].idxmax().normalize()
    low_day = year[PV_A].resample("D").mean().idxmin()
    for day in (peak_day, low_day):
        k = rep.day_to_cluster[day]
        assert k in rep.extreme_days and rep.weights[k] == 1
        np.testing.assert_allclose(rep.profiles[k].to_numpy(), year.loc[str(day.date())].to_numpy(), atol=1e-9)
    assert rep.profiles[rep.day_to_cluster[peak_day]][PRICE].max() == pytest.approx(year[PRICE].max())


def test_medoid_days_are_real_days_and_errors_by_hand(year, rep):
    days = year.to_numpy().reshape(365, 24, 3)
    assignment = rep.day_to_cluster.to_numpy()
    for k, profile in enumerate(rep.profiles):
        gap = np.abs(days - profile.to_numpy()).max(axis=(1, 2))
        assert gap.min() < 1e-9  # hierarchical clustering keeps medoids: actual days
        assert assignment[np.argmin(gap)] == k
    recon = np.stack([rep.profiles[k].to_numpy() for k in assignment]).reshape(-1, 3)
    rmse = np.sqrt(((recon - year.to_numpy()) ** 2).mean(axis=0))
    np.testing.assert_allclose(rep.error["rmse"], rmse)
    assert 0 < rep.error.loc[PRICE, "rmse"] < year[PRICE].std()


def test_annual_mean_preserved(year, rep):
    # without rescaling: medoids approximate the mean within 3 %
    represented = sum(w * p.mean() for w, p in zip(rep.weights, rep.profiles)) / 365
    np.testing.assert_allclose(represented, year.mean(), rtol=0.03)
    np.testing.assert_allclose(rep.error["mean_represented"], represented)
    # tsam's rescaling makes it exact
    scaled = select_representative_days(year, 8)
    np.testing.assert_allclose(scaled.error["mean_represented"], year.mean(), rtol=1e-6)
    np.testing.assert_allclose(scaled.error["total_represented"], year.sum(), rtol=1e-6)


def test_as_many_typical_days_as_days_has_no_error(year):
    month = year.iloc[: 30 * 24]
    full = select_representative_days(month, 30, peak_value_columns=[], low_period_columns=[],
                                      method="kmeans", random_state=0)
    assert full.n_days == 30 and full.extreme_days == ()
    np.testing.assert_allclose(full.weights, 1.0)
    assert full.error["rmse"].max() < 1e-9
    np.testing.assert_allclose(full.reconstructed.to_numpy(), month.to_numpy(), atol=1e-9)


def test_to_scenario_set(rep):
    s = rep.to_scenario_set()
    assert s.values.shape == (rep.n_days, 24, 3)
    np.testing.assert_allclose(s.probabilities, rep.weights / 365)
    assert s.variables == (PRICE, PV_A, PV_B)


def test_validation(year):
    with pytest.raises(ValueError, match="whole number of days"):
        select_representative_days(year.iloc[:100], 2)
    with pytest.raises(ValueError, match="n_days"):
        select_representative_days(year.iloc[:48], 3)
    with pytest.raises(ValueError, match="extreme-day columns"):
        select_representative_days(year.iloc[: 10 * 24], 2, peak_value_columns=["nope"])
    with pytest.raises(ValueError, match="missing values"):
        select_representative_days(year.iloc[:48].where(year.iloc[:48] > 70), 1)


@pytest.mark.shared_data
def test_real_french_year_2021(shared_data):
    """Twelve typical days of France 2021 (in the fitting period) keep the published mean price."""
    raw = pd.read_csv(shared_data / "prices" / "fr_hourly_2019_2022.csv", index_col=0, parse_dates=True)
    frame = raw.loc["2021", ["price_eur_mwh", "solar_cf_est", "wind_onshore_cf_est"]].set_axis(
        [PRICE, "pv_kw_per_kwp:france", "wind_kw_per_kw:france"], axis=1)
    assert len(frame) == 8760
    rep = select_representative_days(frame, 12, low_period_columns=["pv_kw_per_kwp:france", "wind_kw_per_kw:france"])
    assert rep.weights.sum() == pytest.approx(365)
    # RTE/CRE: the 2021 French day-ahead mean was 109.2 EUR/MWh
    assert rep.error.loc[PRICE, "mean_represented"] == pytest.approx(109.2, rel=0.01)
    # PV capacity factor about 14 % (README: 14-15 %); the typical days keep it
    assert rep.error.loc["pv_kw_per_kwp:france", "mean_represented"] == pytest.approx(0.14, abs=0.01)
    # the reconstruction explains most of the hourly price variance
    assert rep.error.loc[PRICE, "rmse"] < 0.6 * frame[PRICE].std()
    peak = frame[PRICE].idxmax().normalize()
    assert rep.weights[rep.day_to_cluster[peak]] == 1
