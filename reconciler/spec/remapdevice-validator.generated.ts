// Generated from schemas/remapdevice.schema.json by scripts/generate-schema-validator.ts (npm run build). Do not edit.
/* eslint-disable */
// @ts-nocheck
'use strict';
export const validate = validate20;
export default validate20;
const schema31 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'RemapDevice',
  description:
    'One dm-remap device: a main disk whose failing blocks are remapped onto a spare device. Files holding these documents live in /etc/dm-remap.d/ (*.yaml or *.yml, several documents per file allowed).',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: {
      description: 'Version of this document format. Only dm-remap/v1alpha1 exists.',
      type: 'string',
      const: 'dm-remap/v1alpha1',
      default: 'dm-remap/v1alpha1',
      'x-expected': '"dm-remap/v1alpha1"',
    },
    kind: {
      description: 'Kind of resource described by this document.',
      type: 'string',
      const: 'RemapDevice',
      default: 'RemapDevice',
      'x-expected': '"RemapDevice"',
    },
    metadata: {
      description: 'Identity of the device and free-form notes about it.',
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: {
          description:
            "Device-mapper name of the device: it appears as /dev/mapper/<name> and its dm UUID is DMREMAP-<name>. 1 to 120 characters from A-Z a-z 0-9 + _ . - (LVM's safe set: no spaces, no '/', no control or invisible characters); not starting with '-' (dmsetup would read it as an option); not '.', '..' or 'control' (the kernel refuses them).",
          type: 'string',
          minLength: 1,
          maxLength: 120,
          pattern: '^(?!-)(?!\\.\\.?$)(?!control$)[A-Za-z0-9+_.-]+$',
          examples: ['data0'],
          'x-expected':
            "a device-mapper name: 1 to 120 characters from A-Z a-z 0-9 + _ . -, not starting with '-', not '.', '..' or 'control'",
        },
        labels: {
          description: 'Free-form key/value pairs for selecting and grouping devices. Values are strings.',
          type: 'object',
          additionalProperties: { type: 'string', 'x-expected': 'a string' },
          default: {},
          'x-expected': 'a map of strings to strings',
        },
        annotations: {
          description:
            'Free-form key/value notes (who owns the disk, a ticket, a reason). Values are strings.',
          type: 'object',
          additionalProperties: { type: 'string', 'x-expected': 'a string' },
          default: {},
          'x-expected': 'a map of strings to strings',
        },
      },
      'x-expected': 'a map with at least a name',
    },
    spec: {
      description: 'Desired state of the device.',
      type: 'object',
      additionalProperties: false,
      required: ['mainDevice', 'spareDevice'],
      properties: {
        mainDevice: {
          description:
            "Absolute path of the disk whose bad blocks are remapped, without control characters or a trailing '/'. Prefer a stable link such as /dev/disk/by-id/...: /dev/sdX names change between boots.",
          type: 'string',
          pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
          examples: ['/dev/disk/by-id/ata-WDC_WD40EFRX-68N32N0_WD-WCC7K0XXXXXX'],
          'x-expected': 'an absolute path such as /dev/disk/by-id/...',
        },
        spareDevice: {
          description:
            "Absolute path of the device that receives remapped blocks and stores the remap table, without control characters or a trailing '/'. It must not be the main device and must not be used by another RemapDevice.",
          type: 'string',
          pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
          examples: ['/dev/disk/by-id/nvme-Samsung_SSD_980_S64DNX0R000000-part3'],
          'x-expected': 'an absolute path such as /dev/disk/by-id/...',
        },
        blockSize: {
          description:
            'Remap unit in bytes: a power of two from 512 to 65536. A bad sector costs one whole block of spare space.',
          type: 'integer',
          enum: [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536],
          default: 4096,
          'x-expected': 'a power of two between 512 and 65536 bytes',
        },
        readRetries: {
          description:
            'How many times a failed read is retried on the main device before the block is treated as bad.',
          type: 'integer',
          minimum: 0,
          maximum: 16,
          default: 3,
          'x-expected': 'an integer between 0 and 16',
        },
        spareUsageWarningPercent: {
          description: "Warn when this percentage of the spare device's blocks are in use.",
          type: 'integer',
          minimum: 1,
          maximum: 100,
          default: 80,
          'x-expected': 'an integer between 1 and 100',
        },
        remapRateWarningPerDay: {
          description:
            'Warn (Degraded, reason RemapRateHigh) when at least this many blocks were remapped in the last 24 hours, as the daemon saw them. Unset: no rate warning.',
          type: 'integer',
          minimum: 1,
          maximum: 1000000,
          'x-expected': 'an integer between 1 and 1000000',
        },
        state: {
          description:
            'active: the device should exist. absent: the device should be removed (its disks are left untouched).',
          type: 'string',
          enum: ['active', 'absent'],
          default: 'active',
          'x-expected': 'one of: active, absent',
        },
        paused: {
          description:
            'true: stop reconciling this device and leave it exactly as it is, whatever else the spec says.',
          type: 'boolean',
          default: false,
          'x-expected': 'true or false',
        },
        removalPolicy: {
          description:
            'What happens to the running device when this document is deleted. Retain (safe) leaves it running; Delete removes it.',
          type: 'string',
          enum: ['Retain', 'Delete'],
          default: 'Retain',
          'x-expected': 'one of: Retain, Delete',
        },
        deviceTimeout: {
          description:
            'How long apply (and so boot activation) waits for mainDevice and spareDevice to appear before it reports this device and goes on without it. The daemon keeps waiting, and starts the device the moment they appear. Never started without its spare.',
          type: 'string',
          pattern: '^[1-9][0-9]{0,5}(s|m|h)$',
          default: '90s',
          'x-expected': 'a duration such as 90s, 5m or 1h',
        },
        nofail: {
          description:
            "true: this device's disks not appearing within deviceTimeout does not make apply (or the boot activation unit) fail, as nofail in /etc/fstab. It is still reported.",
          type: 'boolean',
          default: false,
          'x-expected': 'true or false',
        },
      },
      'x-expected': 'a map with at least mainDevice and spareDevice',
    },
  },
  'x-expected': 'a map with apiVersion, kind, metadata and spec',
};
import helper1 from 'ajv/dist/runtime/ucs2length.js';
const func1 = helper1.default;
const func3 = Object.prototype.hasOwnProperty;
const pattern4 = new RegExp('^(?!-)(?!\\.\\.?$)(?!control$)[A-Za-z0-9+_.-]+$', 'u');
const pattern5 = new RegExp('^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$', 'u');
const pattern7 = new RegExp('^[1-9][0-9]{0,5}(s|m|h)$', 'u');
function validate20(
  data,
  { instancePath = '', parentData, parentDataProperty, rootData = data, dynamicAnchors = {} } = {},
) {
  let vErrors = null;
  let errors = 0;
  const evaluated0 = validate20.evaluated;
  if (evaluated0.dynamicProps) {
    evaluated0.props = undefined;
  }
  if (evaluated0.dynamicItems) {
    evaluated0.items = undefined;
  }
  if (data && typeof data == 'object' && !Array.isArray(data)) {
    if (data.apiVersion === undefined) {
      const err0 = {
        instancePath,
        schemaPath: '#/required',
        keyword: 'required',
        params: { missingProperty: 'apiVersion' },
        message: "must have required property '" + 'apiVersion' + "'",
        schema: schema31.required,
        parentSchema: schema31,
        data,
      };
      if (vErrors === null) {
        vErrors = [err0];
      } else {
        vErrors.push(err0);
      }
      errors++;
    }
    if (data.kind === undefined) {
      const err1 = {
        instancePath,
        schemaPath: '#/required',
        keyword: 'required',
        params: { missingProperty: 'kind' },
        message: "must have required property '" + 'kind' + "'",
        schema: schema31.required,
        parentSchema: schema31,
        data,
      };
      if (vErrors === null) {
        vErrors = [err1];
      } else {
        vErrors.push(err1);
      }
      errors++;
    }
    if (data.metadata === undefined) {
      const err2 = {
        instancePath,
        schemaPath: '#/required',
        keyword: 'required',
        params: { missingProperty: 'metadata' },
        message: "must have required property '" + 'metadata' + "'",
        schema: schema31.required,
        parentSchema: schema31,
        data,
      };
      if (vErrors === null) {
        vErrors = [err2];
      } else {
        vErrors.push(err2);
      }
      errors++;
    }
    if (data.spec === undefined) {
      const err3 = {
        instancePath,
        schemaPath: '#/required',
        keyword: 'required',
        params: { missingProperty: 'spec' },
        message: "must have required property '" + 'spec' + "'",
        schema: schema31.required,
        parentSchema: schema31,
        data,
      };
      if (vErrors === null) {
        vErrors = [err3];
      } else {
        vErrors.push(err3);
      }
      errors++;
    }
    for (const key0 in data) {
      if (!(key0 === 'apiVersion' || key0 === 'kind' || key0 === 'metadata' || key0 === 'spec')) {
        const err4 = {
          instancePath,
          schemaPath: '#/additionalProperties',
          keyword: 'additionalProperties',
          params: { additionalProperty: key0 },
          message: 'must NOT have additional properties',
          schema: false,
          parentSchema: schema31,
          data,
        };
        if (vErrors === null) {
          vErrors = [err4];
        } else {
          vErrors.push(err4);
        }
        errors++;
      }
    }
    if (data.apiVersion !== undefined) {
      let data0 = data.apiVersion;
      if (typeof data0 !== 'string') {
        const err5 = {
          instancePath: instancePath + '/apiVersion',
          schemaPath: '#/properties/apiVersion/type',
          keyword: 'type',
          params: { type: 'string' },
          message: 'must be string',
          schema: schema31.properties.apiVersion.type,
          parentSchema: schema31.properties.apiVersion,
          data: data0,
        };
        if (vErrors === null) {
          vErrors = [err5];
        } else {
          vErrors.push(err5);
        }
        errors++;
      }
      if ('dm-remap/v1alpha1' !== data0) {
        const err6 = {
          instancePath: instancePath + '/apiVersion',
          schemaPath: '#/properties/apiVersion/const',
          keyword: 'const',
          params: { allowedValue: 'dm-remap/v1alpha1' },
          message: 'must be equal to constant',
          schema: 'dm-remap/v1alpha1',
          parentSchema: schema31.properties.apiVersion,
          data: data0,
        };
        if (vErrors === null) {
          vErrors = [err6];
        } else {
          vErrors.push(err6);
        }
        errors++;
      }
    }
    if (data.kind !== undefined) {
      let data1 = data.kind;
      if (typeof data1 !== 'string') {
        const err7 = {
          instancePath: instancePath + '/kind',
          schemaPath: '#/properties/kind/type',
          keyword: 'type',
          params: { type: 'string' },
          message: 'must be string',
          schema: schema31.properties.kind.type,
          parentSchema: schema31.properties.kind,
          data: data1,
        };
        if (vErrors === null) {
          vErrors = [err7];
        } else {
          vErrors.push(err7);
        }
        errors++;
      }
      if ('RemapDevice' !== data1) {
        const err8 = {
          instancePath: instancePath + '/kind',
          schemaPath: '#/properties/kind/const',
          keyword: 'const',
          params: { allowedValue: 'RemapDevice' },
          message: 'must be equal to constant',
          schema: 'RemapDevice',
          parentSchema: schema31.properties.kind,
          data: data1,
        };
        if (vErrors === null) {
          vErrors = [err8];
        } else {
          vErrors.push(err8);
        }
        errors++;
      }
    }
    if (data.metadata !== undefined) {
      let data2 = data.metadata;
      if (data2 && typeof data2 == 'object' && !Array.isArray(data2)) {
        if (data2.name === undefined) {
          const err9 = {
            instancePath: instancePath + '/metadata',
            schemaPath: '#/properties/metadata/required',
            keyword: 'required',
            params: { missingProperty: 'name' },
            message: "must have required property '" + 'name' + "'",
            schema: schema31.properties.metadata.required,
            parentSchema: schema31.properties.metadata,
            data: data2,
          };
          if (vErrors === null) {
            vErrors = [err9];
          } else {
            vErrors.push(err9);
          }
          errors++;
        }
        for (const key1 in data2) {
          if (!(key1 === 'name' || key1 === 'labels' || key1 === 'annotations')) {
            const err10 = {
              instancePath: instancePath + '/metadata',
              schemaPath: '#/properties/metadata/additionalProperties',
              keyword: 'additionalProperties',
              params: { additionalProperty: key1 },
              message: 'must NOT have additional properties',
              schema: false,
              parentSchema: schema31.properties.metadata,
              data: data2,
            };
            if (vErrors === null) {
              vErrors = [err10];
            } else {
              vErrors.push(err10);
            }
            errors++;
          }
        }
        if (data2.name !== undefined) {
          let data3 = data2.name;
          if (typeof data3 === 'string') {
            if (func1(data3) > 120) {
              const err11 = {
                instancePath: instancePath + '/metadata/name',
                schemaPath: '#/properties/metadata/properties/name/maxLength',
                keyword: 'maxLength',
                params: { limit: 120 },
                message: 'must NOT have more than 120 characters',
                schema: 120,
                parentSchema: schema31.properties.metadata.properties.name,
                data: data3,
              };
              if (vErrors === null) {
                vErrors = [err11];
              } else {
                vErrors.push(err11);
              }
              errors++;
            }
            if (func1(data3) < 1) {
              const err12 = {
                instancePath: instancePath + '/metadata/name',
                schemaPath: '#/properties/metadata/properties/name/minLength',
                keyword: 'minLength',
                params: { limit: 1 },
                message: 'must NOT have fewer than 1 characters',
                schema: 1,
                parentSchema: schema31.properties.metadata.properties.name,
                data: data3,
              };
              if (vErrors === null) {
                vErrors = [err12];
              } else {
                vErrors.push(err12);
              }
              errors++;
            }
            if (!pattern4.test(data3)) {
              const err13 = {
                instancePath: instancePath + '/metadata/name',
                schemaPath: '#/properties/metadata/properties/name/pattern',
                keyword: 'pattern',
                params: { pattern: '^(?!-)(?!\\.\\.?$)(?!control$)[A-Za-z0-9+_.-]+$' },
                message: 'must match pattern "' + '^(?!-)(?!\\.\\.?$)(?!control$)[A-Za-z0-9+_.-]+$' + '"',
                schema: '^(?!-)(?!\\.\\.?$)(?!control$)[A-Za-z0-9+_.-]+$',
                parentSchema: schema31.properties.metadata.properties.name,
                data: data3,
              };
              if (vErrors === null) {
                vErrors = [err13];
              } else {
                vErrors.push(err13);
              }
              errors++;
            }
          } else {
            const err14 = {
              instancePath: instancePath + '/metadata/name',
              schemaPath: '#/properties/metadata/properties/name/type',
              keyword: 'type',
              params: { type: 'string' },
              message: 'must be string',
              schema: schema31.properties.metadata.properties.name.type,
              parentSchema: schema31.properties.metadata.properties.name,
              data: data3,
            };
            if (vErrors === null) {
              vErrors = [err14];
            } else {
              vErrors.push(err14);
            }
            errors++;
          }
        }
        if (data2.labels !== undefined) {
          let data4 = data2.labels;
          if (data4 && typeof data4 == 'object' && !Array.isArray(data4)) {
            for (const key2 in data4) {
              let data5 = data4[key2];
              if (typeof data5 !== 'string') {
                const err15 = {
                  instancePath:
                    instancePath + '/metadata/labels/' + key2.replace(/~/g, '~0').replace(/\//g, '~1'),
                  schemaPath: '#/properties/metadata/properties/labels/additionalProperties/type',
                  keyword: 'type',
                  params: { type: 'string' },
                  message: 'must be string',
                  schema: schema31.properties.metadata.properties.labels.additionalProperties.type,
                  parentSchema: schema31.properties.metadata.properties.labels.additionalProperties,
                  data: data5,
                };
                if (vErrors === null) {
                  vErrors = [err15];
                } else {
                  vErrors.push(err15);
                }
                errors++;
              }
            }
          } else {
            const err16 = {
              instancePath: instancePath + '/metadata/labels',
              schemaPath: '#/properties/metadata/properties/labels/type',
              keyword: 'type',
              params: { type: 'object' },
              message: 'must be object',
              schema: schema31.properties.metadata.properties.labels.type,
              parentSchema: schema31.properties.metadata.properties.labels,
              data: data4,
            };
            if (vErrors === null) {
              vErrors = [err16];
            } else {
              vErrors.push(err16);
            }
            errors++;
          }
        }
        if (data2.annotations !== undefined) {
          let data6 = data2.annotations;
          if (data6 && typeof data6 == 'object' && !Array.isArray(data6)) {
            for (const key3 in data6) {
              let data7 = data6[key3];
              if (typeof data7 !== 'string') {
                const err17 = {
                  instancePath:
                    instancePath + '/metadata/annotations/' + key3.replace(/~/g, '~0').replace(/\//g, '~1'),
                  schemaPath: '#/properties/metadata/properties/annotations/additionalProperties/type',
                  keyword: 'type',
                  params: { type: 'string' },
                  message: 'must be string',
                  schema: schema31.properties.metadata.properties.annotations.additionalProperties.type,
                  parentSchema: schema31.properties.metadata.properties.annotations.additionalProperties,
                  data: data7,
                };
                if (vErrors === null) {
                  vErrors = [err17];
                } else {
                  vErrors.push(err17);
                }
                errors++;
              }
            }
          } else {
            const err18 = {
              instancePath: instancePath + '/metadata/annotations',
              schemaPath: '#/properties/metadata/properties/annotations/type',
              keyword: 'type',
              params: { type: 'object' },
              message: 'must be object',
              schema: schema31.properties.metadata.properties.annotations.type,
              parentSchema: schema31.properties.metadata.properties.annotations,
              data: data6,
            };
            if (vErrors === null) {
              vErrors = [err18];
            } else {
              vErrors.push(err18);
            }
            errors++;
          }
        }
      } else {
        const err19 = {
          instancePath: instancePath + '/metadata',
          schemaPath: '#/properties/metadata/type',
          keyword: 'type',
          params: { type: 'object' },
          message: 'must be object',
          schema: schema31.properties.metadata.type,
          parentSchema: schema31.properties.metadata,
          data: data2,
        };
        if (vErrors === null) {
          vErrors = [err19];
        } else {
          vErrors.push(err19);
        }
        errors++;
      }
    }
    if (data.spec !== undefined) {
      let data8 = data.spec;
      if (data8 && typeof data8 == 'object' && !Array.isArray(data8)) {
        if (data8.mainDevice === undefined) {
          const err20 = {
            instancePath: instancePath + '/spec',
            schemaPath: '#/properties/spec/required',
            keyword: 'required',
            params: { missingProperty: 'mainDevice' },
            message: "must have required property '" + 'mainDevice' + "'",
            schema: schema31.properties.spec.required,
            parentSchema: schema31.properties.spec,
            data: data8,
          };
          if (vErrors === null) {
            vErrors = [err20];
          } else {
            vErrors.push(err20);
          }
          errors++;
        }
        if (data8.spareDevice === undefined) {
          const err21 = {
            instancePath: instancePath + '/spec',
            schemaPath: '#/properties/spec/required',
            keyword: 'required',
            params: { missingProperty: 'spareDevice' },
            message: "must have required property '" + 'spareDevice' + "'",
            schema: schema31.properties.spec.required,
            parentSchema: schema31.properties.spec,
            data: data8,
          };
          if (vErrors === null) {
            vErrors = [err21];
          } else {
            vErrors.push(err21);
          }
          errors++;
        }
        for (const key4 in data8) {
          if (!func3.call(schema31.properties.spec.properties, key4)) {
            const err22 = {
              instancePath: instancePath + '/spec',
              schemaPath: '#/properties/spec/additionalProperties',
              keyword: 'additionalProperties',
              params: { additionalProperty: key4 },
              message: 'must NOT have additional properties',
              schema: false,
              parentSchema: schema31.properties.spec,
              data: data8,
            };
            if (vErrors === null) {
              vErrors = [err22];
            } else {
              vErrors.push(err22);
            }
            errors++;
          }
        }
        if (data8.mainDevice !== undefined) {
          let data9 = data8.mainDevice;
          if (typeof data9 === 'string') {
            if (!pattern5.test(data9)) {
              const err23 = {
                instancePath: instancePath + '/spec/mainDevice',
                schemaPath: '#/properties/spec/properties/mainDevice/pattern',
                keyword: 'pattern',
                params: {
                  pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
                },
                message:
                  'must match pattern "' +
                  '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$' +
                  '"',
                schema: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
                parentSchema: schema31.properties.spec.properties.mainDevice,
                data: data9,
              };
              if (vErrors === null) {
                vErrors = [err23];
              } else {
                vErrors.push(err23);
              }
              errors++;
            }
          } else {
            const err24 = {
              instancePath: instancePath + '/spec/mainDevice',
              schemaPath: '#/properties/spec/properties/mainDevice/type',
              keyword: 'type',
              params: { type: 'string' },
              message: 'must be string',
              schema: schema31.properties.spec.properties.mainDevice.type,
              parentSchema: schema31.properties.spec.properties.mainDevice,
              data: data9,
            };
            if (vErrors === null) {
              vErrors = [err24];
            } else {
              vErrors.push(err24);
            }
            errors++;
          }
        }
        if (data8.spareDevice !== undefined) {
          let data10 = data8.spareDevice;
          if (typeof data10 === 'string') {
            if (!pattern5.test(data10)) {
              const err25 = {
                instancePath: instancePath + '/spec/spareDevice',
                schemaPath: '#/properties/spec/properties/spareDevice/pattern',
                keyword: 'pattern',
                params: {
                  pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
                },
                message:
                  'must match pattern "' +
                  '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$' +
                  '"',
                schema: '^/[^\\u0000-\\u001f\\u007f-\\u009f]*[^/\\u0000-\\u001f\\u007f-\\u009f]$',
                parentSchema: schema31.properties.spec.properties.spareDevice,
                data: data10,
              };
              if (vErrors === null) {
                vErrors = [err25];
              } else {
                vErrors.push(err25);
              }
              errors++;
            }
          } else {
            const err26 = {
              instancePath: instancePath + '/spec/spareDevice',
              schemaPath: '#/properties/spec/properties/spareDevice/type',
              keyword: 'type',
              params: { type: 'string' },
              message: 'must be string',
              schema: schema31.properties.spec.properties.spareDevice.type,
              parentSchema: schema31.properties.spec.properties.spareDevice,
              data: data10,
            };
            if (vErrors === null) {
              vErrors = [err26];
            } else {
              vErrors.push(err26);
            }
            errors++;
          }
        }
        if (data8.blockSize !== undefined) {
          let data11 = data8.blockSize;
          if (!(typeof data11 == 'number' && !(data11 % 1) && !isNaN(data11) && isFinite(data11))) {
            const err27 = {
              instancePath: instancePath + '/spec/blockSize',
              schemaPath: '#/properties/spec/properties/blockSize/type',
              keyword: 'type',
              params: { type: 'integer' },
              message: 'must be integer',
              schema: schema31.properties.spec.properties.blockSize.type,
              parentSchema: schema31.properties.spec.properties.blockSize,
              data: data11,
            };
            if (vErrors === null) {
              vErrors = [err27];
            } else {
              vErrors.push(err27);
            }
            errors++;
          }
          if (!(
            data11 === 512 ||
            data11 === 1024 ||
            data11 === 2048 ||
            data11 === 4096 ||
            data11 === 8192 ||
            data11 === 16384 ||
            data11 === 32768 ||
            data11 === 65536
          )) {
            const err28 = {
              instancePath: instancePath + '/spec/blockSize',
              schemaPath: '#/properties/spec/properties/blockSize/enum',
              keyword: 'enum',
              params: { allowedValues: schema31.properties.spec.properties.blockSize.enum },
              message: 'must be equal to one of the allowed values',
              schema: schema31.properties.spec.properties.blockSize.enum,
              parentSchema: schema31.properties.spec.properties.blockSize,
              data: data11,
            };
            if (vErrors === null) {
              vErrors = [err28];
            } else {
              vErrors.push(err28);
            }
            errors++;
          }
        }
        if (data8.readRetries !== undefined) {
          let data12 = data8.readRetries;
          if (!(typeof data12 == 'number' && !(data12 % 1) && !isNaN(data12) && isFinite(data12))) {
            const err29 = {
              instancePath: instancePath + '/spec/readRetries',
              schemaPath: '#/properties/spec/properties/readRetries/type',
              keyword: 'type',
              params: { type: 'integer' },
              message: 'must be integer',
              schema: schema31.properties.spec.properties.readRetries.type,
              parentSchema: schema31.properties.spec.properties.readRetries,
              data: data12,
            };
            if (vErrors === null) {
              vErrors = [err29];
            } else {
              vErrors.push(err29);
            }
            errors++;
          }
          if (typeof data12 == 'number' && isFinite(data12)) {
            if (data12 > 16 || isNaN(data12)) {
              const err30 = {
                instancePath: instancePath + '/spec/readRetries',
                schemaPath: '#/properties/spec/properties/readRetries/maximum',
                keyword: 'maximum',
                params: { comparison: '<=', limit: 16 },
                message: 'must be <= 16',
                schema: 16,
                parentSchema: schema31.properties.spec.properties.readRetries,
                data: data12,
              };
              if (vErrors === null) {
                vErrors = [err30];
              } else {
                vErrors.push(err30);
              }
              errors++;
            }
            if (data12 < 0 || isNaN(data12)) {
              const err31 = {
                instancePath: instancePath + '/spec/readRetries',
                schemaPath: '#/properties/spec/properties/readRetries/minimum',
                keyword: 'minimum',
                params: { comparison: '>=', limit: 0 },
                message: 'must be >= 0',
                schema: 0,
                parentSchema: schema31.properties.spec.properties.readRetries,
                data: data12,
              };
              if (vErrors === null) {
                vErrors = [err31];
              } else {
                vErrors.push(err31);
              }
              errors++;
            }
          }
        }
        if (data8.spareUsageWarningPercent !== undefined) {
          let data13 = data8.spareUsageWarningPercent;
          if (!(typeof data13 == 'number' && !(data13 % 1) && !isNaN(data13) && isFinite(data13))) {
            const err32 = {
              instancePath: instancePath + '/spec/spareUsageWarningPercent',
              schemaPath: '#/properties/spec/properties/spareUsageWarningPercent/type',
              keyword: 'type',
              params: { type: 'integer' },
              message: 'must be integer',
              schema: schema31.properties.spec.properties.spareUsageWarningPercent.type,
              parentSchema: schema31.properties.spec.properties.spareUsageWarningPercent,
              data: data13,
            };
            if (vErrors === null) {
              vErrors = [err32];
            } else {
              vErrors.push(err32);
            }
            errors++;
          }
          if (typeof data13 == 'number' && isFinite(data13)) {
            if (data13 > 100 || isNaN(data13)) {
              const err33 = {
                instancePath: instancePath + '/spec/spareUsageWarningPercent',
                schemaPath: '#/properties/spec/properties/spareUsageWarningPercent/maximum',
                keyword: 'maximum',
                params: { comparison: '<=', limit: 100 },
                message: 'must be <= 100',
                schema: 100,
                parentSchema: schema31.properties.spec.properties.spareUsageWarningPercent,
                data: data13,
              };
              if (vErrors === null) {
                vErrors = [err33];
              } else {
                vErrors.push(err33);
              }
              errors++;
            }
            if (data13 < 1 || isNaN(data13)) {
              const err34 = {
                instancePath: instancePath + '/spec/spareUsageWarningPercent',
                schemaPath: '#/properties/spec/properties/spareUsageWarningPercent/minimum',
                keyword: 'minimum',
                params: { comparison: '>=', limit: 1 },
                message: 'must be >= 1',
                schema: 1,
                parentSchema: schema31.properties.spec.properties.spareUsageWarningPercent,
                data: data13,
              };
              if (vErrors === null) {
                vErrors = [err34];
              } else {
                vErrors.push(err34);
              }
              errors++;
            }
          }
        }
        if (data8.remapRateWarningPerDay !== undefined) {
          let data14 = data8.remapRateWarningPerDay;
          if (!(typeof data14 == 'number' && !(data14 % 1) && !isNaN(data14) && isFinite(data14))) {
            const err35 = {
              instancePath: instancePath + '/spec/remapRateWarningPerDay',
              schemaPath: '#/properties/spec/properties/remapRateWarningPerDay/type',
              keyword: 'type',
              params: { type: 'integer' },
              message: 'must be integer',
              schema: schema31.properties.spec.properties.remapRateWarningPerDay.type,
              parentSchema: schema31.properties.spec.properties.remapRateWarningPerDay,
              data: data14,
            };
            if (vErrors === null) {
              vErrors = [err35];
            } else {
              vErrors.push(err35);
            }
            errors++;
          }
          if (typeof data14 == 'number' && isFinite(data14)) {
            if (data14 > 1000000 || isNaN(data14)) {
              const err36 = {
                instancePath: instancePath + '/spec/remapRateWarningPerDay',
                schemaPath: '#/properties/spec/properties/remapRateWarningPerDay/maximum',
                keyword: 'maximum',
                params: { comparison: '<=', limit: 1000000 },
                message: 'must be <= 1000000',
                schema: 1000000,
                parentSchema: schema31.properties.spec.properties.remapRateWarningPerDay,
                data: data14,
              };
              if (vErrors === null) {
                vErrors = [err36];
              } else {
                vErrors.push(err36);
              }
              errors++;
            }
            if (data14 < 1 || isNaN(data14)) {
              const err37 = {
                instancePath: instancePath + '/spec/remapRateWarningPerDay',
                schemaPath: '#/properties/spec/properties/remapRateWarningPerDay/minimum',
                keyword: 'minimum',
                params: { comparison: '>=', limit: 1 },
                message: 'must be >= 1',
                schema: 1,
                parentSchema: schema31.properties.spec.properties.remapRateWarningPerDay,
                data: data14,
              };
              if (vErrors === null) {
                vErrors = [err37];
              } else {
                vErrors.push(err37);
              }
              errors++;
            }
          }
        }
        if (data8.state !== undefined) {
          let data15 = data8.state;
          if (typeof data15 !== 'string') {
            const err38 = {
              instancePath: instancePath + '/spec/state',
              schemaPath: '#/properties/spec/properties/state/type',
              keyword: 'type',
              params: { type: 'string' },
              message: 'must be string',
              schema: schema31.properties.spec.properties.state.type,
              parentSchema: schema31.properties.spec.properties.state,
              data: data15,
            };
            if (vErrors === null) {
              vErrors = [err38];
            } else {
              vErrors.push(err38);
            }
            errors++;
          }
          if (!(data15 === 'active' || data15 === 'absent')) {
            const err39 = {
              instancePath: instancePath + '/spec/state',
              schemaPath: '#/properties/spec/properties/state/enum',
              keyword: 'enum',
              params: { allowedValues: schema31.properties.spec.properties.state.enum },
              message: 'must be equal to one of the allowed values',
              schema: schema31.properties.spec.properties.state.enum,
              parentSchema: schema31.properties.spec.properties.state,
              data: data15,
            };
            if (vErrors === null) {
              vErrors = [err39];
            } else {
              vErrors.push(err39);
            }
            errors++;
          }
        }
        if (data8.paused !== undefined) {
          let data16 = data8.paused;
          if (typeof data16 !== 'boolean') {
            const err40 = {
              instancePath: instancePath + '/spec/paused',
              schemaPath: '#/properties/spec/properties/paused/type',
              keyword: 'type',
              params: { type: 'boolean' },
              message: 'must be boolean',
              schema: schema31.properties.spec.properties.paused.type,
              parentSchema: schema31.properties.spec.properties.paused,
              data: data16,
            };
            if (vErrors === null) {
              vErrors = [err40];
            } else {
              vErrors.push(err40);
            }
            errors++;
          }
        }
        if (data8.removalPolicy !== undefined) {
          let data17 = data8.removalPolicy;
          if (typeof data17 !== 'string') {
            const err41 = {
              instancePath: instancePath + '/spec/removalPolicy',
              schemaPath: '#/properties/spec/properties/removalPolicy/type',
              keyword: 'type',
              params: { type: 'string' },
              message: 'must be string',
              schema: schema31.properties.spec.properties.removalPolicy.type,
              parentSchema: schema31.properties.spec.properties.removalPolicy,
              data: data17,
            };
            if (vErrors === null) {
              vErrors = [err41];
            } else {
              vErrors.push(err41);
            }
            errors++;
          }
          if (!(data17 === 'Retain' || data17 === 'Delete')) {
            const err42 = {
              instancePath: instancePath + '/spec/removalPolicy',
              schemaPath: '#/properties/spec/properties/removalPolicy/enum',
              keyword: 'enum',
              params: { allowedValues: schema31.properties.spec.properties.removalPolicy.enum },
              message: 'must be equal to one of the allowed values',
              schema: schema31.properties.spec.properties.removalPolicy.enum,
              parentSchema: schema31.properties.spec.properties.removalPolicy,
              data: data17,
            };
            if (vErrors === null) {
              vErrors = [err42];
            } else {
              vErrors.push(err42);
            }
            errors++;
          }
        }
        if (data8.deviceTimeout !== undefined) {
          let data18 = data8.deviceTimeout;
          if (typeof data18 === 'string') {
            if (!pattern7.test(data18)) {
              const err43 = {
                instancePath: instancePath + '/spec/deviceTimeout',
                schemaPath: '#/properties/spec/properties/deviceTimeout/pattern',
                keyword: 'pattern',
                params: { pattern: '^[1-9][0-9]{0,5}(s|m|h)$' },
                message: 'must match pattern "' + '^[1-9][0-9]{0,5}(s|m|h)$' + '"',
                schema: '^[1-9][0-9]{0,5}(s|m|h)$',
                parentSchema: schema31.properties.spec.properties.deviceTimeout,
                data: data18,
              };
              if (vErrors === null) {
                vErrors = [err43];
              } else {
                vErrors.push(err43);
              }
              errors++;
            }
          } else {
            const err44 = {
              instancePath: instancePath + '/spec/deviceTimeout',
              schemaPath: '#/properties/spec/properties/deviceTimeout/type',
              keyword: 'type',
              params: { type: 'string' },
              message: 'must be string',
              schema: schema31.properties.spec.properties.deviceTimeout.type,
              parentSchema: schema31.properties.spec.properties.deviceTimeout,
              data: data18,
            };
            if (vErrors === null) {
              vErrors = [err44];
            } else {
              vErrors.push(err44);
            }
            errors++;
          }
        }
        if (data8.nofail !== undefined) {
          let data19 = data8.nofail;
          if (typeof data19 !== 'boolean') {
            const err45 = {
              instancePath: instancePath + '/spec/nofail',
              schemaPath: '#/properties/spec/properties/nofail/type',
              keyword: 'type',
              params: { type: 'boolean' },
              message: 'must be boolean',
              schema: schema31.properties.spec.properties.nofail.type,
              parentSchema: schema31.properties.spec.properties.nofail,
              data: data19,
            };
            if (vErrors === null) {
              vErrors = [err45];
            } else {
              vErrors.push(err45);
            }
            errors++;
          }
        }
      } else {
        const err46 = {
          instancePath: instancePath + '/spec',
          schemaPath: '#/properties/spec/type',
          keyword: 'type',
          params: { type: 'object' },
          message: 'must be object',
          schema: schema31.properties.spec.type,
          parentSchema: schema31.properties.spec,
          data: data8,
        };
        if (vErrors === null) {
          vErrors = [err46];
        } else {
          vErrors.push(err46);
        }
        errors++;
      }
    }
  } else {
    const err47 = {
      instancePath,
      schemaPath: '#/type',
      keyword: 'type',
      params: { type: 'object' },
      message: 'must be object',
      schema: schema31.type,
      parentSchema: schema31,
      data,
    };
    if (vErrors === null) {
      vErrors = [err47];
    } else {
      vErrors.push(err47);
    }
    errors++;
  }
  validate20.errors = vErrors;
  return errors === 0;
}
validate20.evaluated = { props: true, dynamicProps: false, dynamicItems: false };
