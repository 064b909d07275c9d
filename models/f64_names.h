/* Force-included (-include) when models/ is compiled as double (SEQ_F64):
 * gives every public symbol of the double build its own name, so the float
 * and double builds link into one binary (core/real.h says why both exist).
 * A name missing here shows up as a duplicate-symbol link error. */
#ifndef SEQ_F64_NAMES_H
#define SEQ_F64_NAMES_H

#define attention_ops attention_ops_f64
#define local_attention_ops local_attention_ops_f64
#define mlp_ops mlp_ops_f64
#define subops_for subops_for_f64
#define subops_implemented subops_implemented_f64
#define subops_n_params subops_n_params_f64
#define cfg_defaults cfg_defaults_f64
#define cfg_rotary_dim cfg_rotary_dim_f64
#define cfg_validate cfg_validate_f64
#define cfg_d_inner cfg_d_inner_f64
#define cfg_lru_width cfg_lru_width_f64
#define cfg_bf16_round cfg_bf16_round_f64
#define cfg_rglru_heads cfg_rglru_heads_f64
#define rglru_ops rglru_ops_f64
#define moe_ops moe_ops_f64
#define cfg_dt_rank cfg_dt_rank_f64
#define mamba1_ops mamba1_ops_f64
#define mamba_lti_ops mamba_lti_ops_f64
#define mamba2_ops mamba2_ops_f64
#define pattern_symbol_name pattern_symbol_name_f64
#define pattern_expand pattern_expand_f64
#define pattern_for_arch pattern_for_arch_f64
#define pattern_arch_list pattern_arch_list_f64
#define hybrid_allocate hybrid_allocate_f64
#define hybrid_check_override hybrid_check_override_f64
#define names_layer names_layer_f64
#define names_embed names_embed_f64
#define names_final_norm names_final_norm_f64
#define names_head names_head_f64
#define model_create model_create_f64
#define model_layout model_layout_f64
#define model_free model_free_f64
#define model_init_weights model_init_weights_f64
#define model_alloc_grads model_alloc_grads_f64
#define model_reserve model_reserve_f64
#define model_act_bytes model_act_bytes_f64
#define model_reserve_inference model_reserve_inference_f64
#define model_infer_act_bytes model_infer_act_bytes_f64
#define model_state_is_constant model_state_is_constant_f64
#define decoder_bytes decoder_bytes_f64
#define model_forward model_forward_f64
#define model_embed model_embed_f64
#define model_soft_cap model_soft_cap_f64
#define model_loss model_loss_f64
#define model_backward model_backward_f64
#define model_param_counts model_param_counts_f64
#define model_find_tensor model_find_tensor_f64
#define model_state_bytes model_state_bytes_f64
#define model_flops_per_token model_flops_per_token_f64
#define model_to_bf16 model_to_bf16_f64
#define model_tensor_is_bf16 model_tensor_is_bf16_f64
#define model_head model_head_f64
#define decoder_create decoder_create_f64
#define decoder_free decoder_free_f64
#define decoder_reset decoder_reset_f64
#define decoder_step decoder_step_f64
#define decoder_prefill decoder_prefill_f64
#define decoder_prefill_shared decoder_prefill_shared_f64
#define gradcheck_sublayer gradcheck_sublayer_f64
#define gradcheck_model gradcheck_model_f64
#define gradcheck_rmsnorm gradcheck_rmsnorm_f64
#define gradcheck_cross_entropy gradcheck_cross_entropy_f64
#define gradcheck_coords gradcheck_coords_f64
#define gradcheck_verdict gradcheck_verdict_f64
#define hf_config_from_json hf_config_from_json_f64
#define hf_config_to_json hf_config_to_json_f64
#define hf_choose_model_type hf_choose_model_type_f64
#define hf_load hf_load_f64
#define hf_save hf_save_f64
#define hf_mamba_keys_from_json hf_mamba_keys_from_json_f64
#define hf_mamba_keys_to_json hf_mamba_keys_to_json_f64
#define hf_mamba_config_from_json hf_mamba_config_from_json_f64
#define hf_mamba_config_to_json hf_mamba_config_to_json_f64
#define hf_is_recurrent_gemma hf_is_recurrent_gemma_f64
#define hf_is_jamba hf_is_jamba_f64
#define hf_jamba_pattern hf_jamba_pattern_f64
#define hf_jamba_config_from_json hf_jamba_config_from_json_f64
#define hf_jamba_config_to_json hf_jamba_config_to_json_f64
#define hf_recurrent_gemma_config_from_json hf_recurrent_gemma_config_from_json_f64
#define hf_recurrent_gemma_config_to_json hf_recurrent_gemma_config_to_json_f64

#define model_args_defaults model_args_defaults_f64
#define model_args_build model_args_build_f64
#define model_args_to_cfg model_args_to_cfg_f64
#define model_describe model_describe_f64
#define model_state_split model_state_split_f64
#define model_sizes_json model_sizes_json_f64
#define model_list_configs model_list_configs_f64

#endif
