"""Fit the device and the augmentation to real shirt data.

* ADC: :class:`AdcGainCalibrator` fits each channel's gain, offset and corner frequencies from a
  recorded square-wave test signal (``shirtecg calibrate adc`` writes them into ``device.yaml``).
* Augmentation: :func:`extract_features` describes records per lead; :func:`energy_distance`
  and :func:`classifier_auc` measure how far augmented public records are from device records;
  :class:`AugmentationFitter` searches a pipeline's tunable ranges to close the gap
  (``shirtecg calibrate augment`` writes the calibrated pipeline YAML and a report).
"""

from shirtecg_common.lazy import lazy_exports

#: Public name -> module that defines it, imported on first use (``shirtecg_common.lazy``).
_EXPORTS = {
    "AdcGainCalibrator": "calibration.adc",
    "FeatureScaler": "calibration.distance",
    "classifier_auc": "calibration.distance",
    "energy_distance": "calibration.distance",
    "extract_features": "calibration.features",
    "feature_names": "calibration.features",
    "AugmentationFitter": "calibration.fitter",
    "DeviceRecords": "calibration.records",
    "load_device_records": "calibration.records",
    "SearchSpace": "calibration.search_space",
    "declared_space": "calibration.search_space",
}
__all__ = ["AdcGainCalibrator", "AugmentationFitter", "DeviceRecords", "FeatureScaler",
           "SearchSpace", "classifier_auc", "declared_space", "energy_distance",
           "extract_features", "feature_names", "load_device_records"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
