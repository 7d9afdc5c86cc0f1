/** Public API of the data layer: loaders, preprocessing, splits and the core data types. */
export * from './types.js';
export {
  tabularFromColumns,
  tabularColumns,
  tabularCell,
  cellText,
  columnTexts,
  type TabularColumn,
  type NumericColumn,
  type TextColumn,
} from './columns.js';
export { loadCsv, parseCsvText, LABEL_COLUMN_NAMES, type CsvOptions, type RawTabularWithHints } from './csv.js';
export {
  loadIdxImages,
  loadFashionMnist,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  type IdxOptions,
  type FashionMnistOptions,
  type RawImagesWithClasses,
} from './idx.js';
export {
  loadJsonl,
  parseJsonlText,
  tokenize,
  buildVocabulary,
  PAD_TOKEN,
  UNK_TOKEN,
  PAD_ID,
  UNK_ID,
  type JsonlOptions,
} from './text.js';
export {
  fitPreprocessing,
  applyPreprocessing,
  withAddedClasses,
  featureShapeOf,
  DEFAULT_MAX_VOCAB,
  DEFAULT_MAX_LEN,
  PIXEL_SCALE,
  UNKNOWN_LABEL,
  type FitOptions,
  type ApplyOptions,
} from './preprocess.js';
export {
  splitUpdateScenario,
  trainTestSplit,
  trainValidationSplit,
  type HoldOutOptions,
  type SplitSize,
  type UpdateScenario,
  type UpdateScenarioOptions,
} from './split.js';
export {
  loadData,
  loadBuiltin,
  loadLetter,
  builtinDatasets,
  LETTER_CSV_PATH,
  type BuiltinDataset,
  type LimitOptions,
  type LoadDataOptions,
} from './builtin.js';
export { MISSING_MARKERS, sortedDistinct } from './values.js';
