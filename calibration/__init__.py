"""Fit the device and the augmentation to real shirt data.

* ADC: :class:`AdcGainCalibrator` fits each channel's gain, offset and corner frequencies from a
  recorded square-wave test signal (``shirtecg calibrate adc`` writes them into ``device.yaml``).
* Augmentation: :func:`extract_features` describes records per lead; :func:`energy_distance`
  and :func:`classifier_auc` measure how far augmented public records are from device records;
  :class:`AugmentationFitter` searches a pipeline's tunable ranges to close the gap
  (``shirtecg calibrate augment`` writes the calibrated pipeline YAML and a report).
"""

from calibration.adc import AdcGainCalibrator
from calibration.distance import FeatureScaler, classifier_auc, energy_distance
from calibration.features import extract_features, feature_names
from calibration.fitter import AugmentationFitter
from calibration.records import DeviceRecords, load_device_records
from calibration.search_space import SearchSpace, declared_space

__all__ = ["AdcGainCalibrator", "AugmentationFitter", "DeviceRecords", "FeatureScaler",
           "SearchSpace", "classifier_auc", "declared_space", "energy_distance",
           "extract_features", "feature_names", "load_device_records"]
